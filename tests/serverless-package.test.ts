/**
 * `serverless package` (osls) offline with no AWS credentials, and the CloudFormation it produces:
 * what users deploy. Also proves an invalid rules.yml fails packaging with a message naming the rule.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

/** The environment of a machine with no AWS account at all. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  return { ...env, AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', SLS_TELEMETRY_DISABLED: '1' };
}

/** A copy of the project (sharing node_modules) so packaging never touches the work tree. */
function projectCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hcu-package-'));
  for (const entry of ['serverless.yml', 'package.json', 'tsconfig.json', 'rules.yml', 'functions', 'lib', 'tooling']) {
    cpSync(join(root, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

const serverless = (cwd: string, ...args: string[]) =>
  run(process.execPath, [join(root, 'node_modules/osls/bin/serverless.js'), ...args], { cwd, env: offlineEnv(), timeout: 120_000 });

type Resource = { Type: string; Properties: Record<string, any> };
type Template = { Resources: Record<string, Resource>; Conditions?: Record<string, unknown> };
let resources: Record<string, Resource>;
/** The same project packaged with `--param dispatch=queue` and the queue knobs changed. */
let queueMode: Template;
const copies: string[] = [];
const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type);

async function packaged(...params: string[]): Promise<Template> {
  const copy = projectCopy();
  copies.push(copy);
  await serverless(copy, 'package', '--stage', 'ci', '--region', 'eu-west-1', ...params);
  return JSON.parse(readFileSync(join(copy, '.serverless/cloudformation-template-update-stack.json'), 'utf8'));
}

beforeAll(async () => {
  const queueParams = ['--param=dispatch=queue', '--param=ratePerMinute=90', '--param=maxReceiveCount=5', '--param=alarmTopicArn=arn:aws:sns:eu-west-1:123456789012:ops'];
  const [inline, queue] = await Promise.all([packaged('--param=eventBus=orders-bus-arn'), packaged(...queueParams)]);
  resources = inline.Resources;
  queueMode = queue;
}, 120_000);

afterAll(() => {
  for (const copy of copies) rmSync(copy, { recursive: true, force: true });
});

describe('serverless package', () => {
  it('builds the three functions on nodejs24.x / arm64, the webhook inside HTTP API’s 30 s limit', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.map((f) => f.Properties.Handler).sort()).toEqual(['functions/eventbridge.handler', 'functions/webhook.handler', 'functions/worker.handler']);
    for (const { Properties } of functions) {
      expect(Properties.Runtime).toBe('nodejs24.x');
      expect(Properties.Architectures).toEqual(['arm64']);
      expect(Properties.Environment.Variables.HELPCRUNCH_API_KEY_SECRET_ID).toBe('helpcrunch-untag/api-key');
    }
    const webhook = functions.find((f) => f.Properties.Handler === 'functions/webhook.handler')!;
    expect(webhook.Properties.Timeout).toBeLessThan(30);
    expect(webhook.Properties.FunctionName).toBe('helpcrunch-untag-ci-webhook');
  });

  it("sizes V8's heap in NODE_OPTIONS with the old space Lambda's bootstrap would give the function's memory", () => {
    for (const { Properties } of ofType('AWS::Lambda::Function')) {
      const options = String(Properties.Environment.Variables.NODE_OPTIONS);
      // Setting either size makes the bootstrap set neither, so both must be here and agree with MemorySize.
      expect(options).toMatch(/--max-semi-space-size=\d+/);
      const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(options)?.[1]);
      expect(oldSpace).toBe(Properties.MemorySize - Math.floor(Properties.MemorySize / 10));
    }
  });

  it('routes POST /webhooks/{source} through an HTTP API', () => {
    expect(ofType('AWS::ApiGatewayV2::Route').map((r) => r.Properties.RouteKey)).toEqual(['POST /webhooks/{source}']);
  });

  it('generates one EventBridge rule per rules.yml EventBridge source, on the configured bus', () => {
    const rules = ofType('AWS::Events::Rule').map((r) => ({ bus: r.Properties.EventBusName, pattern: r.Properties.EventPattern }));
    expect(rules).toEqual(
      expect.arrayContaining([
        { bus: 'orders-bus-arn', pattern: { source: ['billing.app'], 'detail-type': ['Subscription Cancelled', 'Subscription Expired'] } },
        { bus: 'orders-bus-arn', pattern: { source: ['crm.app'] } },
      ]),
    );
    expect(rules).toHaveLength(2);
  });

  it('retries failed EventBridge invocations twice, then sends them to a 14-day dead-letter queue', () => {
    const [config] = ofType('AWS::Lambda::EventInvokeConfig');
    expect(config.Properties.MaximumRetryAttempts).toBe(2);
    expect(config.Properties.MaximumEventAgeInSeconds).toBe(3600);
    expect(config.Properties.DestinationConfig.OnFailure.Destination).toEqual({ 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] });
    expect(resources.EventsDeadLetterQueue.Properties.MessageRetentionPeriod).toBe(1209600);
  });

  it('grants GetSecretValue on exactly the configured secrets, and no wildcard actions', () => {
    const statements = resources.IamRoleLambdaExecution.Properties.Policies[0].PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[];
    for (const statement of statements) {
      for (const action of [statement.Action].flat()) expect(action).not.toContain('*');
    }
    const secrets = statements.find((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))!;
    const arn = (name: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${name}-??????` });
    expect(secrets.Resource).toEqual([arn('helpcrunch-untag/api-key'), arn('helpcrunch-untag/billing-webhook'), arn('helpcrunch-untag/crm-webhook')]);
  });

  it('sets log retention', () => {
    for (const group of ofType('AWS::Logs::LogGroup')) expect(group.Properties.RetentionInDays).toBe(30);
  });

  it('fails, naming the variable, when the dispatch param is not a known mode', async () => {
    const copy = projectCopy();
    copies.push(copy);
    const failure = await serverless(copy, 'package', '--param=dispatch=queued').then(
      () => undefined,
      (error: { stdout: string; stderr: string }) => error.stdout + error.stderr,
    );
    expect(failure).toContain('Cannot resolve variable at "provider.environment.DISPATCH"');
  }, 120_000);

  it('fails with a message naming the rule and field when rules.yml is invalid', async () => {
    const broken = projectCopy();
    try {
      const rules = readFileSync(join(broken, 'rules.yml'), 'utf8').replace('removeTags: [Subscriber]', 'removeTags: []');
      writeFileSync(join(broken, 'rules.yml'), rules);
      const failure = await serverless(broken, 'package').then(
        () => undefined,
        (error: { stdout: string; stderr: string }) => error.stdout + error.stderr,
      );
      expect(failure).toMatch(/"subscription-cancelled": removeTags/);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('serverless package: the queue path', () => {
  const getAtt = (resource: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [resource, attribute] });
  const fn = (template: Template, handler: string) =>
    Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === handler)!;
  const env = (template: Template, handler: string) => fn(template, handler).Properties.Environment.Variables;

  it('dispatches inline by default and to the queue with --param dispatch=queue', () => {
    for (const handler of ['functions/webhook.handler', 'functions/eventbridge.handler']) {
      expect(env({ Resources: resources }, handler)).toMatchObject({ DISPATCH: 'inline', JOBS_QUEUE_URL: { Ref: 'JobsQueue' } });
      expect(env(queueMode, handler)).toMatchObject({ DISPATCH: 'queue', JOBS_QUEUE_URL: { Ref: 'JobsQueue' } });
    }
  });

  it('has a jobs queue with a redrive policy to a 14-day dead-letter queue', () => {
    const { JobsQueue, JobsDeadLetterQueue } = resources;
    const worker = fn({ Resources: resources }, 'functions/worker.handler');
    expect(JobsQueue!.Type).toBe('AWS::SQS::Queue');
    expect(JobsQueue!.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: getAtt('JobsDeadLetterQueue'), maxReceiveCount: 8 });
    // AWS: a Lambda consumer's queue needs a visibility timeout of at least 6 × the function timeout.
    expect(JobsQueue!.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * worker.Properties.Timeout);
    expect(JobsQueue!.Properties.QueueName).toBe('helpcrunch-untag-ci-jobs');
    expect(JobsDeadLetterQueue!.Properties).toMatchObject({ QueueName: 'helpcrunch-untag-ci-jobs-dlq', MessageRetentionPeriod: 1209600 });
    // A --param arrives as text; SQS reads maxReceiveCount as text or number alike.
    expect(String(queueMode.Resources.JobsQueue!.Properties.RedrivePolicy.maxReceiveCount)).toBe('5');
  });

  it('runs one worker at a time on the jobs queue, with partial batch responses', () => {
    const worker = fn({ Resources: resources }, 'functions/worker.handler');
    expect(worker.Properties.ReservedConcurrentExecutions).toBe(1);
    expect(worker.Properties.Environment.Variables).toMatchObject({
      HELPCRUNCH_RATE_PER_MINUTE: '110',
      MAX_RECEIVE_COUNT: '8',
      DEAD_LETTER_QUEUE_URL: { Ref: 'JobsDeadLetterQueue' },
    });
    expect(env(queueMode, 'functions/worker.handler')).toMatchObject({ HELPCRUNCH_RATE_PER_MINUTE: '90', MAX_RECEIVE_COUNT: '5' });
    const [mapping, ...others] = ofType('AWS::Lambda::EventSourceMapping');
    expect(others).toEqual([]);
    expect(mapping!.Properties).toMatchObject({
      EventSourceArn: getAtt('JobsQueue'),
      FunctionName: getAtt('WorkerLambdaFunction'),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
    });
  });

  it('grants SQS actions on exactly these queues, and only the worker’s actions on the jobs queue', () => {
    const statements = resources.IamRoleLambdaExecution!.Properties.Policies[0].PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[];
    const sqsStatements = statements.filter((s) => [s.Action].flat().some((action) => action.startsWith('sqs:')));
    const queues = [getAtt('JobsQueue'), getAtt('JobsDeadLetterQueue'), getAtt('EventsDeadLetterQueue')];
    for (const statement of sqsStatements) {
      for (const resource of [statement.Resource].flat()) expect(queues).toContainEqual(resource);
    }
    const granted = (action: string) =>
      sqsStatements.filter((s) => [s.Action].flat().includes(action)).flatMap((s) => [s.Resource].flat());
    expect(granted('sqs:SendMessage')).toEqual(expect.arrayContaining([getAtt('JobsQueue'), getAtt('JobsDeadLetterQueue')]));
    for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']) {
      expect(new Set(granted(action).map((r) => JSON.stringify(r)))).toEqual(new Set([JSON.stringify(getAtt('JobsQueue'))]));
    }
  });

  it('alarms on any dead-lettered job and on the worker’s error rate, notifying the topic when one is given', () => {
    const { JobsDeadLetterAlarm, WorkerErrorRateAlarm } = resources;
    expect(JobsDeadLetterAlarm!.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: getAtt('JobsDeadLetterQueue', 'QueueName') }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    const metrics = WorkerErrorRateAlarm!.Properties.Metrics as { Id: string; Expression?: string; MetricStat?: any }[];
    const stat = (id: string) => metrics.find((m) => m.Id === id)!.MetricStat.Metric;
    expect(stat('errors')).toEqual({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'WorkerLambdaFunction' } }] });
    expect(stat('invocations').MetricName).toBe('Invocations');
    expect(metrics.find((m) => m.Id === 'errorRate')!.Expression).toContain('100 * errors / invocations');
    expect(WorkerErrorRateAlarm!.Properties).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanThreshold' });

    const topic = 'arn:aws:sns:eu-west-1:123456789012:ops';
    expect(queueMode.Conditions!.HasAlarmTopic).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [topic, ''] }] });
    expect(queueMode.Resources.JobsDeadLetterAlarm!.Properties.AlarmActions).toEqual({ 'Fn::If': ['HasAlarmTopic', [topic], { Ref: 'AWS::NoValue' }] });
  });
});
