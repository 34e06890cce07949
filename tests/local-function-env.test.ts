/** Which HelpCrunch and Secrets Manager a local run uses, and the environment its functions get. */
import { describe, expect, it } from 'vitest';
import { functionEnv, LOCAL_API_KEY_SECRET_ID, targetFrom } from '../local/host/function-env';
import {
  localQueueNames,
  PROJECT_ROOT,
  readFunctionConfigs,
  readTableDefinitions,
  readWorkerQueueConfig,
} from '../local/host/serverless-config';
import { UsageError } from '../local/sandbox/cli-options';

describe('targetFrom', () => {
  it('is the sandbox unless HELPCRUNCH_API_URL is set', () => {
    expect(targetFrom({})).toEqual({ kind: 'sandbox' });
    expect(targetFrom({ HELPCRUNCH_API_URL: ' ' })).toEqual({ kind: 'sandbox' });
  });

  it('is the real API with HELPCRUNCH_API_URL, which then needs HELPCRUNCH_API_KEY_SECRET_ID', () => {
    expect(
      targetFrom({ HELPCRUNCH_API_URL: 'https://api.helpcrunch.com/v1', HELPCRUNCH_API_KEY_SECRET_ID: 'prod/key' }),
    ).toEqual({
      kind: 'external',
      apiUrl: 'https://api.helpcrunch.com/v1',
      apiKeySecretId: 'prod/key',
    });
    expect(() => targetFrom({ HELPCRUNCH_API_URL: 'https://api.helpcrunch.com/v1' })).toThrow(UsageError);
    expect(() => targetFrom({ HELPCRUNCH_API_URL: 'https://api.helpcrunch.com/v1' })).toThrow(
      'set HELPCRUNCH_API_KEY_SECRET_ID',
    );
  });
});

describe('functionEnv', () => {
  const base = {
    PATH: '/usr/bin',
    SECRET_CACHE_TTL_SECONDS: '60',
    POWERTOOLS_DEV: 'true',
    AWS_PROFILE: 'prod',
    AWS_SESSION_TOKEN: 'real-session',
    AWS_ACCESS_KEY_ID: 'AKIAREAL',
    AWS_REGION: 'eu-west-1',
    UNSET: undefined,
  };

  it('points the functions at the local endpoints with dummy credentials no real account accepts', () => {
    const lookupOrigins = { stripe: 'http://127.0.0.1:4030', crm: 'http://127.0.0.1:4030' };
    const env = functionEnv(base, {
      helpcrunchUrl: 'http://127.0.0.1:4010/v1',
      secretsManagerUrl: 'http://127.0.0.1:4011',
      lookupOrigins,
    });

    expect(env).toMatchObject({
      HELPCRUNCH_API_URL: 'http://127.0.0.1:4010/v1',
      HELPCRUNCH_API_KEY_SECRET_ID: LOCAL_API_KEY_SECRET_ID,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:4011',
      LOOKUP_ORIGINS: JSON.stringify(lookupOrigins),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local-sandbox',
      AWS_SECRET_ACCESS_KEY: 'local-sandbox',
      SECRET_CACHE_TTL_SECONDS: '60',
    });
    // A named profile would make the SDK skip the environment's (dummy) keys.
    expect(env).not.toHaveProperty('AWS_PROFILE');
    expect(env).not.toHaveProperty('AWS_SESSION_TOKEN');
  });

  it("keeps the caller's AWS settings for the real target", () => {
    const env = functionEnv(base);

    expect(env).toMatchObject({ AWS_PROFILE: 'prod', AWS_SESSION_TOKEN: 'real-session', AWS_REGION: 'eu-west-1' });
    expect(env).not.toHaveProperty('AWS_ENDPOINT_URL_SECRETS_MANAGER');
    expect(env).not.toHaveProperty('LOOKUP_ORIGINS');
  });

  it('always drops POWERTOOLS_DEV, so each log entry stays one JSON line as in Lambda', () => {
    expect(functionEnv(base)).not.toHaveProperty('POWERTOOLS_DEV');
    expect(functionEnv(base)).not.toHaveProperty('UNSET');
  });
});

describe('readFunctionConfigs', () => {
  it("takes each function's handler, timeout and memory from serverless.yml", () => {
    expect(readFunctionConfigs(['webhook', 'eventbridge'])).toEqual({
      webhook: expect.objectContaining({
        entry: `${PROJECT_ROOT}functions/webhook.ts`,
        exportName: 'handler',
        timeoutMs: 28_000,
        memoryMb: 256,
      }),
      eventbridge: expect.objectContaining({
        entry: `${PROJECT_ROOT}functions/eventbridge.ts`,
        exportName: 'handler',
        timeoutMs: 60_000,
        memoryMb: 256,
      }),
    });
    expect(() => readFunctionConfigs(['nope'])).toThrow("serverless.yml defines no function 'nope'");
  });

  it('gives each function its deployed environment: params at their defaults, Refs from the local resources', () => {
    const { webhook, worker } = readFunctionConfigs(['webhook', 'worker'], {
      JobsQueue: 'http://127.0.0.1:4020/000000000000/jobs',
      LedgerTable: 'helpcrunch-untag-local-ledger',
    });

    expect(webhook!.environment).toMatchObject({
      DISPATCH: 'queue',
      HELPCRUNCH_TIMEOUT_MS: '5000',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      JOBS_QUEUE_URL: 'http://127.0.0.1:4020/000000000000/jobs',
      LEDGER_TABLE: 'helpcrunch-untag-local-ledger',
      DEDUP_DAYS: '7',
    });
    expect(webhook!.environment).not.toHaveProperty('WORKER_CONCURRENCY');
    expect(worker!.environment).toMatchObject({
      HELPCRUNCH_RATE_PER_MINUTE: '110',
      WORKER_CONCURRENCY: '2',
      MAX_RECEIVE_COUNT: '8',
    });
    // A Ref with no local resource is left out.
    expect(worker!.environment).not.toHaveProperty('DEAD_LETTER_QUEUE_URL');
  });
});

describe('readWorkerQueueConfig', () => {
  it("takes the jobs queue's type, visibility and redrive backstop, and the worker's event source, from serverless.yml", () => {
    expect(readWorkerQueueConfig()).toEqual({
      fifo: true,
      visibilityTimeoutSeconds: 360,
      maxReceiveCount: 100,
      batchSize: 10,
      maximumBatchingWindowSeconds: 0,
      maximumConcurrency: 2,
    });
  });

  it('names the queues as `--stage local` deploys them', () => {
    expect(localQueueNames()).toEqual({
      jobs: 'helpcrunch-untag-local-jobs.fifo',
      deadLetters: 'helpcrunch-untag-local-jobs-dlq.fifo',
      backfill: 'helpcrunch-untag-local-backfill.fifo',
    });
  });
});

describe('readTableDefinitions', () => {
  it('takes the DynamoDB tables from serverless.yml, named as `--stage local` deploys them', () => {
    expect(readTableDefinitions()).toEqual({
      LedgerTable: expect.objectContaining({
        TableName: 'helpcrunch-untag-local-ledger',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    });
  });
});
