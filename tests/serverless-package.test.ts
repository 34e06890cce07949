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
  for (const entry of ['serverless.yml', 'package.json', 'tsconfig.json', 'rules.yml', 'functions', 'lib', 'scripts']) {
    cpSync(join(root, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

const serverless = (cwd: string, ...args: string[]) =>
  run(process.execPath, [join(root, 'node_modules/osls/bin/serverless.js'), ...args], { cwd, env: offlineEnv(), timeout: 120_000 });

type Resource = { Type: string; Properties: Record<string, any> };
let resources: Record<string, Resource>;
let copy: string;
const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type);

beforeAll(async () => {
  copy = projectCopy();
  await serverless(copy, 'package', '--stage', 'ci', '--region', 'eu-west-1', '--param=eventBus=orders-bus-arn');
  const template = JSON.parse(readFileSync(join(copy, '.serverless/cloudformation-template-update-stack.json'), 'utf8'));
  resources = template.Resources;
}, 120_000);

afterAll(() => rmSync(copy, { recursive: true, force: true }));

describe('serverless package', () => {
  it('builds both functions on nodejs24.x / arm64, the webhook inside HTTP API’s 30 s limit', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.map((f) => f.Properties.Handler).sort()).toEqual(['functions/eventbridge.handler', 'functions/webhook.handler']);
    for (const { Properties } of functions) {
      expect(Properties.Runtime).toBe('nodejs24.x');
      expect(Properties.Architectures).toEqual(['arm64']);
      expect(Properties.Environment.Variables.HELPCRUNCH_API_KEY_SECRET_ID).toBe('helpcrunch-untag/api-key');
    }
    const webhook = functions.find((f) => f.Properties.Handler === 'functions/webhook.handler')!;
    expect(webhook.Properties.Timeout).toBeLessThan(30);
    expect(webhook.Properties.FunctionName).toBe('helpcrunch-untag-ci-webhook');
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
