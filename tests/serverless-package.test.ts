/**
 * `serverless package` (osls) offline with no AWS credentials, and the CloudFormation it produces:
 * what users deploy. Also proves an invalid rules.yml or deploy param fails packaging with a
 * message naming the rule, or the param and the values it takes.
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
  return {
    ...env,
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    SLS_TELEMETRY_DISABLED: '1',
  };
}

const copies: string[] = [];

/** A copy of the project (sharing node_modules) so packaging never touches the work tree. */
function projectCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hcu-package-'));
  copies.push(dir);
  for (const entry of ['serverless.yml', 'package.json', 'tsconfig.json', 'functions', 'lib', 'tooling']) {
    cpSync(join(root, entry), join(dir, entry), { recursive: true });
  }
  // The project's rules.yml is the user's: package the tests' own.
  cpSync(join(root, 'tests/fixtures/rules/package.yml'), join(dir, 'rules.yml'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

const serverless = (cwd: string, ...args: string[]) =>
  run(process.execPath, [join(root, 'node_modules/osls/bin/serverless.js'), ...args], {
    cwd,
    env: offlineEnv(),
    timeout: 120_000,
  });

/** What a failed packaging printed. */
const failureOf = (cwd: string, ...args: string[]) =>
  serverless(cwd, 'package', ...args).then(
    () => 'packaged',
    (error: { stdout: string; stderr: string }) => error.stdout + error.stderr,
  );

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };
type Template = { Resources: Record<string, Resource>; Conditions: Record<string, unknown> };

async function packaged(...params: string[]): Promise<Template> {
  const copy = projectCopy();
  await serverless(copy, 'package', '--stage', 'ci', '--region', 'eu-west-1', ...params);
  return JSON.parse(readFileSync(join(copy, '.serverless/cloudformation-template-update-stack.json'), 'utf8'));
}

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ops';
const KMS_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
/** A partial ARN: the secret's ARN without Secrets Manager's random suffix. */
const PARTIAL_API_KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/helpcrunch-key';

/** The deploy defaults. */
let defaults: Template;
/** Inline dispatch with every other knob changed too. */
let inline: Template;

beforeAll(async () => {
  [defaults, inline] = await Promise.all([
    packaged(),
    packaged(
      '--param=dispatch=inline',
      '--param=ratePerMinute=90',
      '--param=maxReceiveCount=5',
      '--param=dedupDays=14',
      '--param=workerConcurrency=3',
      `--param=alarmTopicArn=${TOPIC}`,
      '--param=jobsAgeAlarmSeconds=1800',
      `--param=apiKeySecretId=${PARTIAL_API_KEY_ARN}`,
      `--param=secretsKmsKeyArn=${KMS_KEY}`,
      '--param=helpcrunchTimeoutMs=4000',
      '--param=maxBodyBytes=65536',
      '--param=timeBudgetMarginMs=2000',
      '--param=maxJobsPerRequest=20',
      '--param=maxCustomersPerRequest=5',
      '--param=dryRun=true',
      '--param=logLevel=DEBUG',
    ),
  ]);
}, 120_000);

afterAll(() => {
  for (const copy of copies) rmSync(copy, { recursive: true, force: true });
});

const ofType = (template: Template, type: string) => Object.values(template.Resources).filter((r) => r.Type === type);
const getAtt = (resource: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [resource, attribute] });
const fn = (template: Template, name: string) =>
  template.Resources[`${name[0]!.toUpperCase()}${name.slice(1)}LambdaFunction`]!;
const env = (template: Template, name: string) =>
  fn(template, name).Properties.Environment.Variables as Record<string, unknown>;
const FUNCTIONS = ['webhook', 'eventbridge', 'worker', 'backfill'] as const;

/** CloudFormation's condition functions, enough to evaluate this template's Conditions. */
function conditionValue(template: Template, expression: any): boolean {
  if ('Condition' in expression) return conditionValue(template, template.Conditions[expression.Condition]);
  if ('Fn::Equals' in expression) return expression['Fn::Equals'][0] === expression['Fn::Equals'][1];
  if ('Fn::Not' in expression) return !conditionValue(template, expression['Fn::Not'][0]);
  if ('Fn::And' in expression) return expression['Fn::And'].every((part: unknown) => conditionValue(template, part));
  throw new Error(`unsupported condition ${JSON.stringify(expression)}`);
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** A role's policy statements as IAM sees them once CloudFormation has applied Fn::If. */
function statements(template: Template, role: string): Statement[] {
  const { Policies } = template.Resources[role]!.Properties;
  return Policies.flatMap((policy: any) => policy.PolicyDocument.Statement).flatMap((statement: any) => {
    if (!('Fn::If' in statement)) return [statement];
    const [condition, whenTrue, whenFalse] = statement['Fn::If'];
    const chosen = conditionValue(template, { Condition: condition }) ? whenTrue : whenFalse;
    return chosen?.Ref === 'AWS::NoValue' ? [] : [chosen];
  });
}

/** action -> resources it is allowed on, for one role. */
function grants(template: Template, role: string): Record<string, unknown[]> {
  const result: Record<string, unknown[]> = {};
  for (const { Effect, Action, Resource } of statements(template, role)) {
    expect(Effect).toBe('Allow');
    for (const action of [Action].flat()) (result[action] ??= []).push(...[Resource].flat());
  }
  return result;
}

const secretArn = (name: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${name}-??????`,
});
const logGroup = (fnName: string, suffix: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/helpcrunch-untag-ci-${fnName}${suffix}`,
});
const logGrants = (fnName: string) => ({
  'logs:CreateLogStream': [logGroup(fnName, ':*')],
  'logs:CreateLogGroup': [logGroup(fnName, ':*')],
  'logs:TagResource': [logGroup(fnName, ':*')],
  'logs:PutLogEvents': [logGroup(fnName, ':*:*')],
});
const SIGNING_SECRETS = [
  secretArn('helpcrunch-untag/billing-webhook'),
  secretArn('helpcrunch-untag/crm-webhook'),
  secretArn('helpcrunch-untag/stripe-webhook'),
];
const LOOKUP_SECRETS = [secretArn('helpcrunch-untag/stripe-api-key')];
/** Item reads and writes on the ledger table, nothing else of DynamoDB. */
const LEDGER_GRANTS = Object.fromEntries(
  ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'].map((action) => [
    `dynamodb:${action}`,
    [getAtt('LedgerTable')],
  ]),
);

describe('serverless package', () => {
  it('builds the four functions on nodejs24.x / arm64, the webhook inside HTTP API’s 30 s limit', () => {
    const functions = ofType(defaults, 'AWS::Lambda::Function');
    // The backfill function is the worker's code with its own queue and settings.
    expect(functions.map((f) => f.Properties.Handler).sort()).toEqual([
      'functions/eventbridge.handler',
      'functions/webhook.handler',
      'functions/worker.handler',
      'functions/worker.handler',
    ]);
    for (const { Properties } of functions) {
      expect(Properties.Runtime).toBe('nodejs24.x');
      expect(Properties.Architectures).toEqual(['arm64']);
      expect(Properties.Environment.Variables.HELPCRUNCH_API_KEY_SECRET_ID).toBe('helpcrunch-untag/api-key');
    }
    expect(fn(defaults, 'webhook').Properties.Timeout).toBeLessThan(30);
    expect(fn(defaults, 'webhook').Properties.FunctionName).toBe('helpcrunch-untag-ci-webhook');
  });

  it("sizes V8's heap in NODE_OPTIONS with the old space Lambda's bootstrap would give the function's memory, and leaves source maps off", () => {
    for (const { Properties } of ofType(defaults, 'AWS::Lambda::Function')) {
      const options = String(Properties.Environment.Variables.NODE_OPTIONS);
      // Setting either size makes the bootstrap set neither, so both must be here and agree with MemorySize.
      expect(options).toMatch(/--max-semi-space-size=\d+/);
      const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(options)?.[1]);
      expect(oldSpace).toBe(Properties.MemorySize - Math.floor(Properties.MemorySize / 10));
      // Every cold start would read the maps of the modules it loads (README: Performance).
      expect(options).not.toMatch(/--enable-source-maps/);
    }
  });

  it('routes POST and GET /webhooks/{source} through an HTTP API', () => {
    expect(ofType(defaults, 'AWS::ApiGatewayV2::Route').map((r) => r.Properties.RouteKey)).toEqual([
      'POST /webhooks/{source}',
      'GET /webhooks/{source}',
    ]);
  });

  it('generates one EventBridge rule per eventSources entry, each on its bus, and creates no bus', () => {
    const rules = ofType(defaults, 'AWS::Events::Rule').map((r) => ({
      bus: r.Properties.EventBusName,
      pattern: r.Properties.EventPattern,
    }));
    const cancelled = ['Subscription Cancelled', 'Subscription Expired'];
    expect(rules).toEqual(
      expect.arrayContaining([
        { bus: undefined, pattern: { source: ['billing.app'], 'detail-type': cancelled } },
        { bus: 'crm-events', pattern: { source: ['crm.app'] } },
        {
          bus: 'arn:aws:events:eu-west-1:123456789012:event-bus/aws.partner/stripe.com/ed_test',
          pattern: { source: ['aws.partner/stripe.com/ed_test'], 'detail-type': cancelled },
        },
      ]),
    );
    expect(rules).toHaveLength(3);
    expect(ofType(defaults, 'AWS::Events::EventBus')).toEqual([]);
    // Each rule may invoke the eventbridge function, and only that rule.
    for (const [id, resource] of Object.entries(defaults.Resources).filter(([, r]) => r.Type === 'AWS::Events::Rule')) {
      expect(resource.Properties.Targets).toEqual([{ Arn: getAtt('EventbridgeLambdaFunction'), Id: 'eventbridge' }]);
      expect(defaults.Resources[`${id}Permission`]!.Properties).toEqual({
        Action: 'lambda:InvokeFunction',
        FunctionName: getAtt('EventbridgeLambdaFunction'),
        Principal: 'events.amazonaws.com',
        SourceArn: getAtt(id),
      });
    }
  });

  it('retries failed EventBridge invocations twice, then sends them to a 14-day dead-letter queue', () => {
    const [config] = ofType(defaults, 'AWS::Lambda::EventInvokeConfig');
    expect(config!.Properties.MaximumRetryAttempts).toBe(2);
    expect(config!.Properties.MaximumEventAgeInSeconds).toBe(3600);
    expect(config!.Properties.DestinationConfig.OnFailure.Destination).toEqual(getAtt('EventsDeadLetterQueue'));
    expect(defaults.Resources.EventsDeadLetterQueue!.Properties.MessageRetentionPeriod).toBe(1209600);
  });

  it('sets log retention', () => {
    for (const group of ofType(defaults, 'AWS::Logs::LogGroup')) expect(group.Properties.RetentionInDays).toBe(30);
  });

  it('fails with a message naming the rule and field when rules.yml is invalid', async () => {
    const broken = projectCopy();
    const rules = readFileSync(join(broken, 'rules.yml'), 'utf8').replace('source: crm.app', 'source: crm.ap');
    writeFileSync(join(broken, 'rules.yml'), rules);
    const failure = await failureOf(broken);
    const problem =
      'rules[3] "account-closed": source: "crm.ap" is neither a webhook source (sources) nor an EventBridge source (eventSources): did you mean crm.app?';
    // Problems come in the file's order: eventSources is above rules.
    expect(failure).toContain(
      `rules.yml is invalid (2 problems):\n  - eventSources.crm.app: not used by any rule\n  - ${problem}`,
    );
    // Said once, by the one variable every other reading rules.yml waits for; no stack trace, no crash after it.
    expect(failure.split(problem)).toHaveLength(2);
    expect(failure).not.toMatch(/\n\s+at /);
    expect(failure).not.toContain('Uncaught exception');
    expect(failure).not.toContain('MISSING_VARIABLE_DEPENDENCY');
  }, 120_000);
});

describe('serverless package: deploy parameters', () => {
  it('passes every configurable setting to the functions, from its param', () => {
    for (const name of FUNCTIONS) {
      expect(env(defaults, name)).toMatchObject({
        HELPCRUNCH_TIMEOUT_MS: '5000',
        MAX_BODY_BYTES: '262144',
        TIME_BUDGET_MARGIN_MS: '1500',
        MAX_JOBS_PER_REQUEST: '100',
        MAX_CUSTOMERS_PER_REQUEST: '100',
        DRY_RUN: 'false',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        SECRET_CACHE_TTL_SECONDS: '300',
        HELPCRUNCH_API_URL: 'https://api.helpcrunch.com/v1',
      });
      expect(env(inline, name)).toMatchObject({
        HELPCRUNCH_TIMEOUT_MS: '4000',
        MAX_BODY_BYTES: '65536',
        TIME_BUDGET_MARGIN_MS: '2000',
        MAX_JOBS_PER_REQUEST: '20',
        MAX_CUSTOMERS_PER_REQUEST: '5',
        DRY_RUN: 'true',
        POWERTOOLS_LOG_LEVEL: 'DEBUG',
        HELPCRUNCH_API_KEY_SECRET_ID: PARTIAL_API_KEY_ARN,
      });
    }
  });

  it('fails naming each bad param and the values it takes, and a --param no one reads', async () => {
    const failure = await failureOf(
      projectCopy(),
      '--param=dispatch=bogus',
      '--param=workerConcurrency=1',
      '--param=dryRun=yes',
      '--param=logLevel=verbose',
      '--param=alarmTopicArn=ops-topic',
      '--param=secretsKmsKeyArn=bogus',
      '--param=ratePerMinte=60',
    );
    expect(failure).toContain('Invalid --param dispatch=bogus: expected inline | queue');
    expect(failure).toContain('Invalid --param workerConcurrency=1: expected an integer from 2 to 1000');
    expect(failure).toContain('Invalid --param dryRun=yes: expected false | true');
    expect(failure).toContain(
      'Invalid --param logLevel=verbose: expected TRACE | DEBUG | INFO | WARN | ERROR | CRITICAL | SILENT',
    );
    expect(failure).toContain('Invalid --param alarmTopicArn=ops-topic: expected empty, or an SNS topic ARN');
    expect(failure).toMatch(/Unknown --param ratePerMinte: expected one of .*ratePerMinute/);
    // Once, though the roles read secretsKmsKeyArn too.
    expect(failure.split('Invalid --param secretsKmsKeyArn=bogus')).toHaveLength(2);
    // The message is the whole story: no stack trace of the checker.
    expect(failure).not.toContain('deploy-params.cjs:');
    expect(failure).not.toMatch(/\n\s+at /);
  }, 120_000);
});

describe('serverless package: the queue path', () => {
  it('dispatches to the queue by default and inline with --param dispatch=inline', () => {
    for (const name of ['webhook', 'eventbridge']) {
      expect(env(defaults, name)).toMatchObject({ DISPATCH: 'queue', JOBS_QUEUE_URL: { Ref: 'JobsQueue' } });
      expect(env(inline, name)).toMatchObject({ DISPATCH: 'inline', JOBS_QUEUE_URL: { Ref: 'JobsQueue' } });
    }
  });

  it('reserves no concurrency anywhere: the deploy must work on accounts with a quota of 10', () => {
    for (const template of [defaults, inline]) {
      expect(JSON.stringify(template)).not.toContain('ReservedConcurrentExecutions');
    }
  });

  it('bounds the worker with the event source’s maximum concurrency, each instance at its share of the rate', () => {
    const mappings = ofType(defaults, 'AWS::Lambda::EventSourceMapping');
    expect(mappings.map((m) => m.Properties.FunctionName)).toEqual([
      getAtt('WorkerLambdaFunction'),
      getAtt('BackfillLambdaFunction'),
    ]);
    const mapping = mappings[0];
    expect(mapping!.Properties).toMatchObject({
      EventSourceArn: getAtt('JobsQueue'),
      FunctionName: getAtt('WorkerLambdaFunction'),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    // Lambda takes no batching window for a FIFO queue.
    expect(mapping!.Properties).not.toHaveProperty('MaximumBatchingWindowInSeconds');
    expect(env(defaults, 'worker')).toMatchObject({
      HELPCRUNCH_RATE_PER_MINUTE: '110',
      WORKER_CONCURRENCY: '2',
      MAX_RECEIVE_COUNT: '8',
      DEAD_LETTER_QUEUE_URL: { Ref: 'JobsDeadLetterQueue' },
    });
    expect(ofType(inline, 'AWS::Lambda::EventSourceMapping')[0]!.Properties.ScalingConfig).toEqual({
      MaximumConcurrency: 3,
    });
    expect(env(inline, 'worker')).toMatchObject({
      HELPCRUNCH_RATE_PER_MINUTE: '90',
      WORKER_CONCURRENCY: '3',
      MAX_RECEIVE_COUNT: '5',
    });
  });

  it('has a FIFO jobs queue and a FIFO dead-letter queue, the senders deduplicating, SQS’s redrive a backstop', () => {
    for (const template of [defaults, inline]) {
      const { JobsQueue, JobsDeadLetterQueue } = template.Resources;
      expect(JobsQueue!.Properties).toMatchObject({
        QueueName: 'helpcrunch-untag-ci-jobs.fifo',
        FifoQueue: true,
        ContentBasedDeduplication: false,
      });
      expect(JobsDeadLetterQueue!.Properties).toMatchObject({
        QueueName: 'helpcrunch-untag-ci-jobs-dlq.fifo',
        FifoQueue: true,
        MessageRetentionPeriod: 1209600,
      });
      // The worker dead-letters after maxReceiveCount attempts itself; SQS only after 100 receives,
      // more than the 10 × maxReceiveCount a job held behind its group can collect.
      expect(JobsQueue!.Properties.RedrivePolicy).toEqual({
        deadLetterTargetArn: getAtt('JobsDeadLetterQueue'),
        maxReceiveCount: 100,
      });
      expect(10 * Number(env(template, 'worker').MAX_RECEIVE_COUNT)).toBeLessThanOrEqual(100);
    }
    // AWS: a Lambda consumer's queue needs a visibility timeout of at least 6 × the function timeout.
    const { JobsQueue, JobsDeadLetterQueue } = defaults.Resources;
    expect(JobsQueue!.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
      6 * fn(defaults, 'worker').Properties.Timeout,
    );
    expect(JobsQueue!.Properties.MessageRetentionPeriod).toBe(345600);
    expect(JobsQueue!.Properties.MessageRetentionPeriod).toBeLessThan(
      JobsDeadLetterQueue!.Properties.MessageRetentionPeriod,
    );
  });

  it('drains a backfill from its own FIFO queue with the backfill function, two instances at the share each message says', () => {
    const mapping = ofType(defaults, 'AWS::Lambda::EventSourceMapping').find(
      (m) => m.Properties.FunctionName['Fn::GetAtt'][0] === 'BackfillLambdaFunction',
    );
    expect(mapping!.Properties).toMatchObject({
      EventSourceArn: getAtt('BackfillQueue'),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    expect(env(defaults, 'backfill')).toMatchObject({
      WORKER_QUEUE: 'backfill',
      JOBS_QUEUE_URL: { Ref: 'BackfillQueue' },
      DEAD_LETTER_QUEUE_URL: { Ref: 'JobsDeadLetterQueue' },
      HELPCRUNCH_RATE_PER_MINUTE: '110',
      WORKER_CONCURRENCY: '2',
      MAX_RECEIVE_COUNT: '8',
    });
    expect(env(defaults, 'worker')).not.toHaveProperty('WORKER_QUEUE');
    const { BackfillQueue } = defaults.Resources;
    expect(BackfillQueue!.Properties).toMatchObject({
      QueueName: 'helpcrunch-untag-ci-backfill.fifo',
      FifoQueue: true,
      ContentBasedDeduplication: false,
      MessageRetentionPeriod: 1209600,
      RedrivePolicy: { deadLetterTargetArn: getAtt('JobsDeadLetterQueue'), maxReceiveCount: 100 },
    });
    expect(BackfillQueue!.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
      6 * fn(defaults, 'backfill').Properties.Timeout,
    );
  });

  it('has the ledger table: on demand, pk + sk, TTL on expiresAt, point-in-time recovery; its name and the dedup days to every function', () => {
    const { LedgerTable } = defaults.Resources;
    expect(LedgerTable).toEqual({
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: 'helpcrunch-untag-ci-ledger',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
    });
    expect(inline.Resources.LedgerTable).toEqual(LedgerTable);
    for (const name of FUNCTIONS) {
      expect(env(defaults, name)).toMatchObject({ LEDGER_TABLE: { Ref: 'LedgerTable' }, DEDUP_DAYS: '7' });
      expect(env(inline, name)).toMatchObject({ LEDGER_TABLE: { Ref: 'LedgerTable' }, DEDUP_DAYS: '14' });
    }
  });
});

describe('serverless package: alarms', () => {
  const notifies = (alarm: Resource, template: Template) => {
    const actions = { 'Fn::If': ['HasAlarmTopic', [TOPIC], { Ref: 'AWS::NoValue' }] };
    expect(alarm.Properties).toMatchObject({ AlarmActions: actions, OKActions: actions });
    expect(conditionValue(template, template.Conditions.HasAlarmTopic)).toBe(true);
  };
  const single = (
    name: string,
    namespace: string,
    metric: string,
    dimension: unknown,
    threshold: number,
    template = defaults,
  ) => {
    const alarm = template.Resources[name]!;
    expect(alarm.Type).toBe('AWS::CloudWatch::Alarm');
    expect(alarm.Properties).toMatchObject({
      Namespace: namespace,
      MetricName: metric,
      Dimensions: [dimension],
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    return alarm;
  };

  it('alarms on any dead-lettered job or event', () => {
    single(
      'JobsDeadLetterAlarm',
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      { Name: 'QueueName', Value: getAtt('JobsDeadLetterQueue', 'QueueName') },
      0,
    );
    single(
      'EventsDeadLetterAlarm',
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      { Name: 'QueueName', Value: getAtt('EventsDeadLetterQueue', 'QueueName') },
      0,
    );
  });

  it('alarms when the oldest queued job is older than jobsAgeAlarmSeconds', () => {
    single(
      'JobsAgeAlarm',
      'AWS/SQS',
      'ApproximateAgeOfOldestMessage',
      { Name: 'QueueName', Value: getAtt('JobsQueue', 'QueueName') },
      900,
    );
    notifies(
      single(
        'JobsAgeAlarm',
        'AWS/SQS',
        'ApproximateAgeOfOldestMessage',
        { Name: 'QueueName', Value: getAtt('JobsQueue', 'QueueName') },
        1800,
        inline,
      ),
      inline,
    );
  });

  it('alarms on any throttled worker invocation', () => {
    const alarm = single(
      'WorkerThrottlesAlarm',
      'AWS/Lambda',
      'Throttles',
      { Name: 'FunctionName', Value: { Ref: 'WorkerLambdaFunction' } },
      0,
    );
    expect(alarm.Properties.Statistic).toBe('Sum');
    notifies(inline.Resources.WorkerThrottlesAlarm!, inline);
  });

  it('alarms when failed EventBridge events cannot be delivered to their dead-letter queue', () => {
    const alarm = single(
      'EventsDestinationFailureAlarm',
      'AWS/Lambda',
      'DestinationDeliveryFailures',
      { Name: 'FunctionName', Value: { Ref: 'EventbridgeLambdaFunction' } },
      0,
    );
    expect(alarm.Properties.Statistic).toBe('Sum');
    notifies(inline.Resources.EventsDestinationFailureAlarm!, inline);
  });

  it('alarms on the worker’s error rate', () => {
    const { WorkerErrorRateAlarm } = defaults.Resources;
    const metrics = WorkerErrorRateAlarm!.Properties.Metrics as { Id: string; Expression?: string; MetricStat?: any }[];
    const stat = (id: string) => metrics.find((m) => m.Id === id)!.MetricStat.Metric;
    expect(stat('errors')).toEqual({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'WorkerLambdaFunction' } }],
    });
    expect(stat('invocations').MetricName).toBe('Invocations');
    expect(metrics.find((m) => m.Id === 'errorRate')!.Expression).toContain('100 * errors / invocations');
    expect(WorkerErrorRateAlarm!.Properties).toMatchObject({
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('shows alarms in CloudWatch only when no topic is given', () => {
    expect(conditionValue(defaults, defaults.Conditions.HasAlarmTopic)).toBe(false);
    for (const name of [
      'JobsDeadLetterAlarm',
      'JobsAgeAlarm',
      'EventsDeadLetterAlarm',
      'EventsDestinationFailureAlarm',
      'WorkerThrottlesAlarm',
      'WorkerErrorRateAlarm',
    ]) {
      notifies(inline.Resources[name]!, inline);
    }
  });
});

describe('serverless package: one IAM role per function', () => {
  const ROLES = {
    webhook: 'WebhookRole',
    eventbridge: 'EventbridgeRole',
    worker: 'WorkerRole',
    backfill: 'BackfillRole',
  } as const;

  it('gives each function its own role, and osls generates no shared one', () => {
    for (const template of [defaults, inline]) {
      expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
      for (const name of FUNCTIONS) {
        expect(fn(template, name).Properties.Role).toEqual(getAtt(ROLES[name]));
        expect(template.Resources[ROLES[name]]!.Properties.AssumeRolePolicyDocument.Statement).toEqual([
          { Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] }, Action: ['sts:AssumeRole'] },
        ]);
      }
    }
  });

  it('queue mode: the webhook reads its signing secrets and enqueues, nothing more', () => {
    expect(grants(defaults, 'WebhookRole')).toEqual({
      ...logGrants('webhook'),
      'secretsmanager:GetSecretValue': SIGNING_SECRETS,
      'sqs:SendMessage': [getAtt('JobsQueue')],
    });
  });

  it('queue mode: the EventBridge function enqueues and dead-letters, and reads no secret', () => {
    expect(grants(defaults, 'EventbridgeRole')).toEqual({
      ...logGrants('eventbridge'),
      'sqs:SendMessage': [getAtt('JobsQueue'), getAtt('EventsDeadLetterQueue')],
    });
  });

  it('the worker reads the API key and lookup secrets, consumes and re-times the jobs queue, dead-letters, keeps the ledger; no signing secret', () => {
    for (const template of [defaults, inline]) {
      const worker = grants(template, 'WorkerRole');
      expect(worker).toMatchObject({
        ...logGrants('worker'),
        'sqs:ReceiveMessage': [getAtt('JobsQueue')],
        'sqs:DeleteMessage': [getAtt('JobsQueue')],
        'sqs:GetQueueAttributes': [getAtt('JobsQueue')],
        'sqs:ChangeMessageVisibility': [getAtt('JobsQueue')],
        'sqs:SendMessage': [getAtt('JobsDeadLetterQueue')],
        ...LEDGER_GRANTS,
      });
      for (const signing of SIGNING_SECRETS)
        expect(worker['secretsmanager:GetSecretValue']).not.toContainEqual(signing);
    }
    // The API key, and the secrets of the senders' APIs its lookups call.
    expect(grants(defaults, 'WorkerRole')['secretsmanager:GetSecretValue']).toEqual([
      secretArn('helpcrunch-untag/api-key'),
      ...LOOKUP_SECRETS,
    ]);
    expect(Object.keys(grants(defaults, 'WorkerRole')).sort()).toEqual(
      [
        ...Object.keys(logGrants('worker')),
        'secretsmanager:GetSecretValue',
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
        'sqs:SendMessage',
        ...Object.keys(LEDGER_GRANTS),
      ].sort(),
    );
  });

  it('the backfill function may do what the worker does, on the backfill queue: consume and re-time it, dead-letter, keep the ledger', () => {
    for (const template of [defaults, inline]) {
      const { 'secretsmanager:GetSecretValue': secrets, 'kms:Decrypt': decrypt } = grants(template, 'WorkerRole');
      expect(grants(template, 'BackfillRole')).toEqual({
        ...logGrants('backfill'),
        'secretsmanager:GetSecretValue': secrets,
        ...(decrypt && { 'kms:Decrypt': decrypt }),
        'sqs:ReceiveMessage': [getAtt('BackfillQueue')],
        'sqs:DeleteMessage': [getAtt('BackfillQueue')],
        'sqs:GetQueueAttributes': [getAtt('BackfillQueue')],
        'sqs:ChangeMessageVisibility': [getAtt('BackfillQueue')],
        'sqs:SendMessage': [getAtt('JobsDeadLetterQueue')],
        ...LEDGER_GRANTS,
      });
    }
  });

  it('the triggers keep the ledger in inline mode only, where they apply jobs themselves', () => {
    for (const role of ['WebhookRole', 'EventbridgeRole']) {
      expect(grants(inline, role)).toMatchObject(LEDGER_GRANTS);
      expect(Object.keys(grants(defaults, role)).filter((action) => action.startsWith('dynamodb:'))).toEqual([]);
    }
  });

  it('no trigger may receive, delete or re-time queued jobs', () => {
    for (const template of [defaults, inline]) {
      for (const role of ['WebhookRole', 'EventbridgeRole']) {
        const actions = Object.keys(grants(template, role));
        for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'])
          expect(actions).not.toContain(action);
      }
    }
  });

  it('inline mode: both triggers also read the API key (a partial ARN: suffix pattern appended) and lookup secrets', () => {
    const apiKey = `${PARTIAL_API_KEY_ARN}-??????`;
    expect(grants(inline, 'WebhookRole')['secretsmanager:GetSecretValue']).toEqual([
      ...SIGNING_SECRETS,
      apiKey,
      ...LOOKUP_SECRETS,
    ]);
    expect(grants(inline, 'EventbridgeRole')['secretsmanager:GetSecretValue']).toEqual([apiKey, ...LOOKUP_SECRETS]);
    expect(grants(inline, 'WorkerRole')['secretsmanager:GetSecretValue']).toEqual([apiKey, ...LOOKUP_SECRETS]);
  });

  it('queue mode: the triggers read no API key and no lookup secret', () => {
    expect(grants(defaults, 'WebhookRole')['secretsmanager:GetSecretValue']).toEqual(SIGNING_SECRETS);
    expect(grants(defaults, 'EventbridgeRole')['secretsmanager:GetSecretValue']).toBeUndefined();
  });

  it('grants kms:Decrypt on secretsKmsKeyArn, through Secrets Manager only, to every role that reads secrets', () => {
    const decrypt = (template: Template, role: string) =>
      statements(template, role).filter((s) => [s.Action].flat().includes('kms:Decrypt'));
    for (const role of Object.values(ROLES)) {
      expect(decrypt(inline, role)).toEqual([
        {
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: KMS_KEY,
          Condition: {
            StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'secretsmanager.${AWS::Region}.amazonaws.com' } },
          },
        },
      ]);
      // No key given: no KMS grant at all.
      expect(decrypt(defaults, role)).toEqual([]);
    }
  });

  it('allows no wildcard actions', () => {
    for (const template of [defaults, inline]) {
      for (const role of Object.values(ROLES)) {
        for (const action of Object.keys(grants(template, role))) expect(action).not.toContain('*');
      }
    }
  });
});
