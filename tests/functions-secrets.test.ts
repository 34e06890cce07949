/**
 * The functions and their secrets, each test with freshly imported modules (a new container):
 * secret reads started at init and in parallel, Secrets Manager stalling or failing, a rotated
 * signing secret, and what an unverified caller may learn. Real SDK, real loopback Secrets
 * Manager, the HelpCrunch sandbox; the clock (Date only) is faked where the cache must expire.
 */
import { createHmac } from 'node:crypto';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { jobMessage } from '../lib/queue/job-message';
import { startHelpCrunchSandbox, type HelpCrunchSandbox } from '../local/sandbox/helpcrunch-sandbox';
import { eventBridgeEvent, lambdaContext, sqsRecord, webhookEvent } from './support/lambda-events';
import { freshLedgerTable, localDynamoDb } from './support/ledger';
import { startSecretsManagerEndpoint, type SecretsManagerEndpoint } from '../local/sandbox/secrets-manager-endpoint';
import { captureOutput, type CapturedOutput } from './support/local-aws';
import { unitsFor } from './support/pipeline';

const API_KEY_ID = 'helpcrunch-untag/api-key';
const CRM_ID = 'helpcrunch-untag/crm-webhook';
const BILLING_ID = 'helpcrunch-untag/billing-webhook';
// The suite's Stripe source and the stripe lookup's API key.
const STRIPE_WEBHOOK_ID = 'helpcrunch-untag/stripe-webhook';
const STRIPE_API_KEY_ID = 'helpcrunch-untag/stripe-api-key';
const API_KEY = 'hc-secrets-test-key-31f';
const CRM_SECRET = 'crm-secret-before-rotation';

type Handler = (event: unknown, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

let sandbox: HelpCrunchSandbox;
let secretsManager: SecretsManagerEndpoint;
let output: CapturedOutput;
const savedEnv = { ...process.env };

function restoreEnv() {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
}

beforeAll(async () => {
  sandbox = await startHelpCrunchSandbox({ apiKey: API_KEY });
});
afterAll(() => sandbox.close());

beforeEach(async () => {
  sandbox.reset();
  secretsManager = await startSecretsManagerEndpoint({
    secrets: {
      [API_KEY_ID]: API_KEY,
      [CRM_ID]: CRM_SECRET,
      [BILLING_ID]: `whsec_${Buffer.from('billing').toString('base64')}`,
    },
  });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test-access-key',
    AWS_SECRET_ACCESS_KEY: 'test-secret-key',
    HELPCRUNCH_API_URL: sandbox.url,
    HELPCRUNCH_API_KEY_SECRET_ID: API_KEY_ID,
    POWERTOOLS_DEV: 'false',
  });
  output = captureOutput();
});

afterEach(async () => {
  output.restore();
  vi.useRealTimers();
  restoreEnv();
  await secretsManager.close();
});

/** Imports a function afresh: module init runs again, as in a new Lambda container, with a new ledger. */
async function coldStart<H = Handler>(name: 'webhook' | 'eventbridge' | 'worker' = 'webhook'): Promise<H> {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: (await localDynamoDb()).url,
    LEDGER_TABLE: await freshLedgerTable(),
  });
  vi.resetModules();
  const module = (await import(`../functions/${name}.ts`)) as unknown as { handler: H };
  return module.handler;
}

const lostDeal = JSON.stringify({ status: 'lost', person: { email: 'ada@example.com' } });
/** Another event about the same customer: a request that fills the caches without making lostDeal a duplicate. */
const earlierLostDeal = JSON.stringify({ status: 'lost', person: { email: 'ada@example.com' }, earlier: true });
const sign = (body: string, secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const crmEvent = (signature: string | undefined, headers: Record<string, string> = {}, body = lostDeal) =>
  webhookEvent('http-api', {
    source: 'crm',
    body,
    headers: { ...(signature ? { 'X-Signature': signature } : {}), ...headers },
  });

async function invoke(handler: Handler, event: unknown, context = lambdaContext()) {
  const response = await handler(event, context);
  return { ...response, json: JSON.parse(response.body ?? 'null') as { errors?: { code: string; message: string }[] } };
}

const readsOf = (secretId: string) => secretsManager.calls().bySecret[secretId] ?? 0;
/** The secrets read so far, once per read, sorted. */
const secretsRead = () =>
  Object.entries(secretsManager.calls().bySecret)
    .flatMap(([secretId, reads]) => Array<string>(reads).fill(secretId))
    .sort();
/** From now on Secrets Manager accepts every read and never answers it, as a dependency that hangs; `answerAgain` ends that. */
const neverAnswer = () => secretsManager.script('*', { stall: true, times: 'always' });
const answerAgain = () => secretsManager.clearScript();

async function until(condition: () => boolean) {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Fakes Date only (timers and sockets stay real), so the cache's memory of a failure can run out. */
function fakeDate() {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
  return (ms: number) => vi.setSystemTime(Date.now() + ms);
}

describe('secret reads at init', () => {
  it('starts every signing secret, the API key and the lookups’ secrets at import (inline), in parallel, without awaiting them', async () => {
    neverAnswer();
    // Resolves while every read is held: init does not wait for Secrets Manager.
    const handler = await coldStart();
    // All five in flight at once: they were started together, not one after the other.
    await until(() => secretsManager.stalled() === 5);
    expect(secretsRead()).toEqual([API_KEY_ID, BILLING_ID, CRM_ID, STRIPE_API_KEY_ID, STRIPE_WEBHOOK_ID].sort());
    answerAgain();
    secretsManager.release();

    const response = await invoke(handler, crmEvent(sign(lostDeal, CRM_SECRET)));

    expect(response.statusCode).toBe(200);
    expect(secretsManager.calls().total).toBe(5);
  });

  it('in queue dispatch, a trigger starts only the signing secrets: it neither calls HelpCrunch nor looks customers up', async () => {
    Object.assign(process.env, { DISPATCH: 'queue', JOBS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/jobs' });
    await coldStart();
    await until(() => secretsManager.calls().total === 3);

    expect(secretsRead()).toEqual([BILLING_ID, CRM_ID, STRIPE_WEBHOOK_ID].sort());
    await coldStart('eventbridge');
    expect(secretsManager.calls().total).toBe(3);
  });

  it('the worker starts the API key and the lookups’ secrets, and no signing secret', async () => {
    Object.assign(process.env, {
      JOBS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/jobs',
      DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/dlq',
    });
    await coldStart('worker');
    await until(() => secretsManager.calls().total === 2);

    expect(secretsRead()).toEqual([API_KEY_ID, STRIPE_API_KEY_ID]);
  });

  it('a failed early read fails neither the init nor the first request: it is read again on use', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      neverAnswer();
      const handler = await coldStart();
      await until(() => secretsManager.stalled() === 5);
      answerAgain();
      const earlyReads = readsOf(CRM_ID);

      // The early reads are still stalled (3 s read timeout); the request reads again when they fail.
      const response = await invoke(handler, crmEvent(sign(lostDeal, CRM_SECRET)));

      expect(response.statusCode).toBe(200);
      expect(readsOf(CRM_ID)).toBe(earlyReads + 1);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a misconfiguration still answers a clear ConfigError, not a failed cold start', async () => {
    process.env.HELPCRUNCH_API_URL = 'https://api.helpcrunch.com';
    const handler = await coldStart();

    const response = await invoke(handler, crmEvent(sign(lostDeal, CRM_SECRET)));

    expect(response.statusCode).toBe(500);
    expect(response.json.errors![0]).toEqual({
      code: 'invalid_api_url',
      message: "HELPCRUNCH_API_URL must be the API's /v1 base, e.g. https://api.helpcrunch.com/v1",
    });
  });
});

describe('Secrets Manager stalled or failing', () => {
  it('answers 503 secrets_unavailable with Retry-After when Secrets Manager never answers, and recovers', async () => {
    const advance = fakeDate();
    const handler = await coldStart();
    expect((await invoke(handler, crmEvent(sign(earlierLostDeal, CRM_SECRET), {}, earlierLostDeal))).statusCode).toBe(
      200,
    );
    sandbox.reset();
    // The cached secrets expire, and Secrets Manager now accepts connections and never answers.
    advance(300_000);
    neverAnswer();

    // 1.8 s left, 1.5 s kept back: the read gets 300 ms, not the rest of the invocation.
    const stalled = await invoke(handler, crmEvent(sign(lostDeal, CRM_SECRET)), lambdaContext(1_800));
    const readsBefore = readsOf(CRM_ID);

    expect(stalled.statusCode).toBe(503);
    expect(stalled.headers?.['retry-after']).toBe('5');
    expect(stalled.json.errors![0]).toEqual({
      code: 'secrets_unavailable',
      message: "Signing secret for source 'crm' cannot be read now: Secrets Manager did not answer",
    });
    expect(sandbox.requests).toEqual([]);

    answerAgain();
    // Remembered for 5 s, so a flood meanwhile costs no Secrets Manager calls.
    expect((await invoke(handler, crmEvent(sign(lostDeal, CRM_SECRET)))).statusCode).toBe(503);
    expect(readsOf(CRM_ID)).toBe(readsBefore);

    advance(5_000);
    const recovered = await invoke(handler, crmEvent(sign(lostDeal, CRM_SECRET)));
    expect(recovered.statusCode).toBe(200);
    expect(sandbox.customer(1001)?.tags).toEqual([]);
  });

  it('tells an unverified caller which source’s secret is unreadable, never its id, ARN or the SDK’s error', async () => {
    const arn = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${CRM_ID}-AbCdEf`;
    secretsManager.deleteSecret(CRM_ID);
    const handler = await coldStart();

    const event = crmEvent('sha256=forged', { 'webhook-id': 'attacker-chosen' });
    const response = await invoke(handler, event);

    expect(response.statusCode).toBe(500);
    expect(response.json.errors![0]).toEqual({
      code: 'secret_unreadable',
      message: "Signing secret for source 'crm' cannot be read",
    });
    for (const leak of [CRM_ID, arn, '123456789012', 'ResourceNotFoundException'])
      expect(response.body).not.toContain(leak);
    // The operator finds the detail in the logs, under the gateway's request id.
    const rejected = output
      .text()
      .split('\n')
      .find((line) => line.includes('"webhook rejected"'))!;
    expect(JSON.parse(rejected)).toMatchObject({
      correlation_id: event.requestContext.requestId,
      code: 'secret_unreadable',
      detail: `Secret '${CRM_ID}' cannot be read (ResourceNotFoundException)`,
    });
  });
});

describe('a rotated signing secret', () => {
  const rotated = 'crm-secret-after-rotation';

  it('is accepted at once: a signature mismatch re-reads the secret, bypassing the cache', async () => {
    const handler = await coldStart();
    expect((await invoke(handler, crmEvent(sign(lostDeal, CRM_SECRET)))).statusCode).toBe(200);
    secretsManager.setSecret(CRM_ID, rotated);

    const response = await invoke(handler, crmEvent(sign(lostDeal, rotated)));

    expect(response.statusCode).toBe(200);
    expect(readsOf(CRM_ID)).toBe(2);
    // The old secret is gone from the cache too.
    expect((await invoke(handler, crmEvent(sign(lostDeal, CRM_SECRET)))).statusCode).toBe(401);
  });

  it('re-reads at most once per 30 s, so forged signatures cannot multiply Secrets Manager calls', async () => {
    const advance = fakeDate();
    const handler = await coldStart();
    await invoke(handler, crmEvent(sign(lostDeal, CRM_SECRET)));
    const before = readsOf(CRM_ID);

    for (let i = 0; i < 20; i++)
      expect((await invoke(handler, crmEvent(sign(lostDeal, `forged-${i}`)))).statusCode).toBe(401);
    expect(readsOf(CRM_ID)).toBe(before + 1);

    advance(30_000);
    expect((await invoke(handler, crmEvent(sign(lostDeal, 'forged-again')))).statusCode).toBe(401);
    expect(readsOf(CRM_ID)).toBe(before + 2);
  });

  it('is not re-read for a missing signature', async () => {
    const handler = await coldStart();
    await invoke(handler, crmEvent(sign(lostDeal, CRM_SECRET)));
    const before = readsOf(CRM_ID);

    const response = await invoke(handler, crmEvent(undefined));

    expect(response.json.errors![0]!.code).toBe('missing_signature');
    expect(readsOf(CRM_ID)).toBe(before);
  });
});

describe('a rotated API key', () => {
  const lostDealEvent = () => crmEvent(sign(lostDeal, CRM_SECRET));

  it('is read again after HelpCrunch answers 401, and the call succeeds with it', async () => {
    const handler = await coldStart();
    const rotated = 'hc-rotated-key-9a8b7c';
    await until(() => readsOf(API_KEY_ID) === 1);
    sandbox.rotateApiKey(rotated);
    secretsManager.setSecret(API_KEY_ID, rotated);

    const response = await invoke(handler, lostDealEvent());

    expect(response.statusCode).toBe(200);
    expect(sandbox.requests.map((r) => r.status)).toEqual([401, 200, 200]);
    expect(readsOf(API_KEY_ID)).toBe(2);
  });

  it('answers 500 api_key_rejected, without the key, when HelpCrunch refuses it after a fresh read; and re-reads at most once per 30 s', async () => {
    const advance = fakeDate();
    const handler = await coldStart();
    await until(() => readsOf(API_KEY_ID) === 1);
    sandbox.rotateApiKey('a-key-this-deployment-does-not-have');

    const response = await invoke(handler, lostDealEvent());

    expect(response.statusCode).toBe(500);
    expect(response.json.errors![0]!.code).toBe('api_key_rejected');
    expect(response.body).not.toContain(API_KEY);
    expect(sandbox.requests.map((r) => r.status)).toEqual([401, 401]);
    expect(readsOf(API_KEY_ID)).toBe(2);

    await invoke(handler, lostDealEvent());
    expect(readsOf(API_KEY_ID)).toBe(2);
    advance(30_000);
    await invoke(handler, lostDealEvent());
    expect(readsOf(API_KEY_ID)).toBe(3);
  });
});

describe('the API key in the EventBridge and worker functions', () => {
  const sqsMock = mockClient(SQSClient);
  afterAll(() => sqsMock.restore());

  /** A new container that used its API key once, then saw it expire from its cache while Secrets Manager stalled. */
  async function stalledAfterFirstUse<H>(name: 'eventbridge' | 'worker', firstUse: (handler: H) => Promise<unknown>) {
    const advance = fakeDate();
    const handler = await coldStart<H>(name);
    await firstUse(handler);
    sandbox.reset();
    advance(300_000);
    neverAnswer();
    return { handler, advance };
  }

  it('EventBridge: rejects as retryable secrets_unavailable within the budget, and recovers', async () => {
    const event = eventBridgeEvent('crm.app', 'Account Closed', { helpcrunchId: 1004 });
    // The first use is another event: Lambda's retry of `event` below must not be its duplicate.
    const earlier = { ...event, id: 'c7b9a1e2-0000-4000-8000-000000000000' };
    const { handler, advance } = await stalledAfterFirstUse<(event: unknown, context: Context) => Promise<unknown>>(
      'eventbridge',
      (first) => expect(first(earlier, lambdaContext())).resolves.toMatchObject({ results: [{ status: 'untagged' }] }),
    );

    // 2.6 s left, 1.5 s kept back: room for one HelpCrunch attempt, whose key read is cut to what is left.
    await expect(handler(event, lambdaContext(2_600))).rejects.toThrow(
      /^retryable: secrets_unavailable: The HelpCrunch API key secret cannot be read now/,
    );
    expect(sandbox.requests).toEqual([]);

    answerAgain();
    advance(5_000);
    await expect(handler(event, lambdaContext())).resolves.toMatchObject({ results: [{ status: 'untagged' }] });
  });

  it('worker: retries the message (a batch item failure, visible again after the wait) and recovers', async () => {
    Object.assign(process.env, {
      JOBS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/jobs',
      DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/dlq',
      // Short HelpCrunch requests, so a 3.2 s invocation has room to start the job (a search, a delete and a put).
      HELPCRUNCH_TIMEOUT_MS: '500',
      HELPCRUNCH_RATE_PER_MINUTE: '6000',
    });
    sqsMock.reset();
    sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
    const removeVip = (id: string, occurredAt: number) =>
      sqsRecord(
        JSON.stringify(
          jobMessage(
            unitsFor(
              [{ rule: 'deal-lost', customer: { by: 'helpcrunchId', value: 1004 }, removeTags: ['VIP'], addTags: [] }],
              { source: 'crm', id, occurredAt },
            )[0]!,
          ),
        ),
      );
    const firstUseAt = Date.parse('2026-11-24T08:00:00Z');
    const record = removeVip('e-1', firstUseAt + 60_000);
    // The first use is an earlier event's message: the message below is neither its duplicate nor older than it.
    const { handler, advance } = await stalledAfterFirstUse<
      (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>
    >('worker', (first) =>
      expect(first({ Records: [removeVip('e-0', firstUseAt)] }, lambdaContext(60_000))).resolves.toEqual({
        batchItemFailures: [],
      }),
    );

    const retried = await handler({ Records: [record] }, lambdaContext(3_200));

    expect(retried).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    const [change] = sqsMock.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input);
    expect(change!.VisibilityTimeout).toBeGreaterThanOrEqual(5);
    expect(sandbox.requests).toEqual([]);

    answerAgain();
    advance(5_000);
    await expect(handler({ Records: [record] }, lambdaContext(60_000))).resolves.toEqual({ batchItemFailures: [] });
    expect(sandbox.customer(1004)?.tags.map((tag) => tag.name)).toEqual(['Lead', 'Subscriber']);
  });
});
