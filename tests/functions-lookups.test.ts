/**
 * Lookups and tag additions end to end through the functions: the real handler modules with the
 * suite's rules (a Stripe source and an EventBridge source naming customers by Stripe id), the
 * stripe lookup pointed at the vendor stand-ins with LOOKUP_ORIGINS, the HelpCrunch sandbox and a
 * Secrets Manager endpoint on loopback. Each test is a new container (modules imported afresh), so
 * it can start with its own environment. A lookup that fails is never answered as done.
 */
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { jobMessage } from '../lib/queue/job-message';
import { startHelpCrunchSandbox, type HelpCrunchSandbox } from '../local/sandbox/helpcrunch-sandbox';
import { startSecretsManagerEndpoint, type SecretsManagerEndpoint } from '../local/sandbox/secrets-manager-endpoint';
import { DEFAULT_VENDOR_KEYS, startVendorApis, type VendorApis } from '../local/sandbox/vendor-apis';
import { eventBridgeEvent, lambdaContext, sqsRecord, webhookEvent } from './support/lambda-events';
import { freshLedgerTable, ledgerItems, localDynamoDb } from './support/ledger';
import { captureOutput, type CapturedOutput } from './support/local-aws';
import { unitsFor } from './support/pipeline';
import { subscriptionDeleted } from './support/suite-events';

const API_KEY = 'hc-lookups-key-20c4';
const STRIPE_SIGNING_SECRET = 'whsec_5a1f0c3e7b9d2468ace13579bdf02468';
const STRIPE_API_KEY = DEFAULT_VENDOR_KEYS.stripe;

type WebhookHandler = (event: unknown, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
type EventHandler = (event: unknown, context: Context) => Promise<unknown>;
type WorkerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

let sandbox: HelpCrunchSandbox;
let vendors: VendorApis;
let secrets: SecretsManagerEndpoint;
/** An origin nothing listens on: a sender's API that cannot be reached. */
let closedOrigin: string;
let output: CapturedOutput;
const savedEnv = { ...process.env };

beforeAll(async () => {
  [sandbox, vendors] = await Promise.all([startHelpCrunchSandbox({ apiKey: API_KEY }), startVendorApis()]);
  secrets = await startSecretsManagerEndpoint({
    secrets: {
      'helpcrunch-untag/api-key': API_KEY,
      'helpcrunch-untag/stripe-webhook': STRIPE_SIGNING_SECRET,
      'helpcrunch-untag/stripe-api-key': STRIPE_API_KEY,
    },
  });
  const closed = await startVendorApis();
  closedOrigin = closed.url;
  await closed.close();
});

afterAll(async () => {
  await Promise.all([sandbox.close(), vendors.close(), secrets.close()]);
});

beforeEach(() => {
  sandbox.reset();
  vendors.setKey('stripe', STRIPE_API_KEY);
  output = captureOutput();
});

afterEach(() => {
  output.restore();
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
});

/** A new container of `name`, its environment the local stand-ins' plus `env`; the stripe lookup at `lookupOrigin`. */
async function coldStart<H>(
  name: 'webhook' | 'eventbridge' | 'worker',
  env: Record<string, string> = {},
  lookupOrigin = vendors.url,
): Promise<H> {
  Object.assign(process.env, {
    // A new function, a new ledger: each test's events are new to it.
    AWS_ENDPOINT_URL_DYNAMODB: (await localDynamoDb()).url,
    LEDGER_TABLE: await freshLedgerTable(),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test-access-key',
    AWS_SECRET_ACCESS_KEY: 'test-secret-key',
    HELPCRUNCH_API_URL: sandbox.url,
    HELPCRUNCH_API_KEY_SECRET_ID: 'helpcrunch-untag/api-key',
    POWERTOOLS_DEV: 'false',
    DISPATCH: 'inline',
    LOOKUP_ORIGINS: JSON.stringify({ stripe: lookupOrigin }),
    ...env,
  });
  vi.resetModules();
  return ((await import(`../functions/${name}.ts`)) as { handler: H }).handler;
}

const subscriptionDeletedBody = (customer: string) => JSON.stringify(subscriptionDeleted('evt_1', customer));

async function deliver(handler: WebhookHandler, body: string, context = lambdaContext()) {
  const headers = {
    'Stripe-Signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_SIGNING_SECRET }),
  };
  const response = await handler(webhookEvent('http-api', { source: 'stripe', body, headers }), context);
  return { ...response, json: JSON.parse(response.body ?? 'null') as Record<string, unknown> };
}

const tagsOf = (id: number) => sandbox.customer(id)?.tags.map((tag) => tag.name);
const helpcrunchCalls = () => sandbox.requests.map((r) => `${r.method} ${r.path}`);
const logLines = () =>
  output
    .text()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('webhook, inline dispatch', () => {
  it('resolves the Stripe customer through the lookup, removes and adds the tags, and answers what changed', async () => {
    const handler = await coldStart<WebhookHandler>('webhook');
    const response = await deliver(handler, subscriptionDeletedBody('cus_Qh7GraceHopper'));

    expect(response.statusCode).toBe(200);
    expect(response.json).toEqual({
      results: [
        {
          rule: 'stripe-subscription-ended',
          customerId: 1002,
          removed: ['Subscriber'],
          added: ['Churned'],
          status: 'untagged',
        },
      ],
    });
    expect(tagsOf(1002)).toEqual(['VIP', 'Churned']);
    expect(helpcrunchCalls()).toEqual([
      'POST /v1/customers/search',
      'DELETE /v1/customers/1002/tags',
      'PUT /v1/customers/1002/tags',
    ]);
    expect(vendors.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v1/customers/cus_Qh7GraceHopper' });
    expect(vendors.requests.at(-1)!.headers.authorization).toBe(`Bearer ${STRIPE_API_KEY}`);
    const job = logLines().find((line) => line.message === 'job untagged')!.job;
    expect(job).toMatchObject({ removed: ['Subscriber'], added: ['Churned'], requests: 4 });
  });

  it('answers 200 skipped lookup_not_found when the sender has no such customer, calling HelpCrunch not at all', async () => {
    const handler = await coldStart<WebhookHandler>('webhook');
    const response = await deliver(handler, subscriptionDeletedBody('cus_DoesNotExist'));

    expect(response.statusCode).toBe(200);
    expect(response.json).toEqual({
      results: [
        {
          rule: 'stripe-subscription-ended',
          customerId: null,
          removed: [],
          added: [],
          status: 'skipped',
          reason: 'lookup_not_found',
        },
      ],
    });
    expect(sandbox.requests).toEqual([]);
  });

  it('answers 500 lookup_unauthorized when the sender refuses the key, never naming the key or its secret', async () => {
    const handler = await coldStart<WebhookHandler>('webhook');
    vendors.setKey('stripe', 'sk_test_rotatedSomewhereElse');
    const response = await deliver(handler, subscriptionDeletedBody('cus_Qh7GraceHopper'));

    expect(response.statusCode).toBe(500);
    expect(response.json).toEqual({
      errors: [{ code: 'lookup_unauthorized', message: expect.stringContaining('Lookup "stripe"') }],
    });
    for (const secret of [STRIPE_API_KEY, 'helpcrunch-untag/stripe-api-key']) {
      expect(response.body).not.toContain(secret);
      expect(output.text()).not.toContain(secret);
    }
    expect(sandbox.requests).toEqual([]);
    expect(tagsOf(1002)).toEqual(['Subscriber', 'VIP']);
  });

  it('answers 503 lookup_unavailable with Retry-After when the sender’s API cannot be reached, changing nothing', async () => {
    const handler = await coldStart<WebhookHandler>('webhook', {}, closedOrigin);
    // 1 s of budget: one attempt fits, a retry after its backoff does not.
    const response = await deliver(handler, subscriptionDeletedBody('cus_Qh7GraceHopper'), lambdaContext(2_500));

    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toMatch(/^\d+$/);
    expect((response.json.errors as { code: string }[])[0]!.code).toBe('lookup_unavailable');
    expect(sandbox.requests).toEqual([]);
  });

  it('answers 413 too_many_customers when a signed batch’s lookups name more customers than MAX_CUSTOMERS_PER_REQUEST, writing nothing', async () => {
    const handler = await coldStart<WebhookHandler>('webhook', { MAX_CUSTOMERS_PER_REQUEST: '1' });
    const lookedUpBefore = vendors.requests.length;
    const batch = JSON.stringify([
      subscriptionDeleted('evt_grace', 'cus_Qh7GraceHopper'),
      subscriptionDeleted('evt_jenny', 'cus_NffrFeUfNV2Hib'),
    ]);
    const response = await deliver(handler, batch);

    expect(response.statusCode).toBe(413);
    expect(response.json).toEqual({
      errors: [
        {
          code: 'too_many_customers',
          message:
            'The request names 2 customers; at most 1 are changed per request (MAX_CUSTOMERS_PER_REQUEST): send smaller batches',
        },
      ],
    });
    // Both Stripe customers were looked up (that is how they were counted); HelpCrunch and the ledger saw nothing.
    expect(
      vendors.requests
        .slice(lookedUpBefore)
        .map((r) => r.path)
        .sort(),
    ).toEqual(['/v1/customers/cus_NffrFeUfNV2Hib', '/v1/customers/cus_Qh7GraceHopper']);
    expect(sandbox.requests).toEqual([]);
    expect(await ledgerItems(process.env.LEDGER_TABLE!)).toEqual([]);
  });

  it.each([
    ['names a lookup rules.yml does not have', JSON.stringify({ stipe: 'http://127.0.0.1:1' })],
    ['sends a lookup off this machine in clear', JSON.stringify({ stripe: 'http://example.com' })],
    ['is not JSON', 'stripe=http://127.0.0.1:1'],
  ])('answers 500 invalid_lookup_origins when LOOKUP_ORIGINS %s', async (_, origins) => {
    const handler = await coldStart<WebhookHandler>('webhook', { LOOKUP_ORIGINS: origins });
    const response = await deliver(handler, subscriptionDeletedBody('cus_Qh7GraceHopper'));

    expect(response.statusCode).toBe(500);
    expect((response.json.errors as { code: string }[])[0]!.code).toBe('invalid_lookup_origins');
  });
});

describe('a dry run (DRY_RUN=true)', () => {
  it('looks the customer up and searches, sends no DELETE or PUT, answers would_untag, and says dry run on every log line and metric', async () => {
    const handler = await coldStart<WebhookHandler>('webhook', { DRY_RUN: 'true' });
    const response = await deliver(handler, subscriptionDeletedBody('cus_Qh7GraceHopper'));

    expect(response.statusCode).toBe(200);
    expect(response.json).toEqual({
      results: [
        {
          rule: 'stripe-subscription-ended',
          customerId: 1002,
          removed: ['Subscriber'],
          added: ['Churned'],
          status: 'would_untag',
        },
      ],
    });
    expect(helpcrunchCalls()).toEqual(['POST /v1/customers/search']);
    expect(tagsOf(1002)).toEqual(['Subscriber', 'VIP']);

    const lines = logLines();
    const logs = lines.filter((line) => line._aws === undefined);
    expect(logs.map((line) => line.message)).toContain('job would_untag');
    for (const line of logs) expect(line.dryRun).toBe(true);
    const [metrics] = lines.filter((line) => line._aws !== undefined) as {
      _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] };
      dryRun?: string;
    }[];
    expect(metrics!.dryRun).toBe('true');
    expect(metrics!._aws.CloudWatchMetrics[0]!.Dimensions[0]).toContain('dryRun');
    expect(metrics!._aws.CloudWatchMetrics[0]!.Metrics.map((metric) => metric.Name)).toEqual(
      expect.arrayContaining(['JobsWouldUntag', 'HelpCrunchRequests', 'LookupRequests']),
    );
  });

  it('is not a dry run, and says nothing of one, unless DRY_RUN=true', async () => {
    const handler = await coldStart<WebhookHandler>('webhook');
    await deliver(handler, subscriptionDeletedBody('cus_Qh7GraceHopper'));

    expect(output.text()).not.toContain('dryRun');
    expect(output.text()).toContain('"JobsUntagged"');
  });

  it('refuses a DRY_RUN that is neither true nor false (500 configuration_error)', async () => {
    const handler = await coldStart<WebhookHandler>('webhook', { DRY_RUN: 'yes' });
    const response = await deliver(handler, subscriptionDeletedBody('cus_Qh7GraceHopper'));

    expect(response.statusCode).toBe(500);
    expect(response.json).toEqual({
      errors: [{ code: 'configuration_error', message: "DRY_RUN must be 'true' or 'false', got 'yes'" }],
    });
  });
});

describe('EventBridge, inline dispatch', () => {
  const paymentFailed = (customer: string) => eventBridgeEvent('payments.app', 'Payment Failed', { customer });

  it('resolves with what changed: a rule that only adds is tagged', async () => {
    const handler = await coldStart<EventHandler>('eventbridge');

    await expect(handler(paymentFailed('cus_Qh7GraceHopper'), lambdaContext())).resolves.toEqual({
      results: [{ rule: 'payment-failed', customerId: 1002, removed: [], added: ['Payment failed'], status: 'tagged' }],
    });
    expect(tagsOf(1002)).toEqual(['Subscriber', 'VIP', 'Payment failed']);
  });

  it('rejects as retryable when the lookup cannot reach the sender’s API, so Lambda retries the event', async () => {
    const handler = await coldStart<EventHandler>('eventbridge', {}, closedOrigin);

    await expect(handler(paymentFailed('cus_Qh7GraceHopper'), lambdaContext(2_500))).rejects.toThrow(
      /^retryable: lookup_unavailable: Lookup "stripe": /,
    );
    expect(sandbox.requests).toEqual([]);
  });
});

describe('the worker (queue dispatch)', () => {
  const sqsMock = mockClient(SQSClient);
  afterAll(() => sqsMock.restore());
  beforeEach(() => {
    sqsMock.reset();
    sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
  });
  const queues = {
    JOBS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/jobs',
    DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/dlq',
    HELPCRUNCH_RATE_PER_MINUTE: '6000',
  };
  const record = (customer: string) =>
    sqsRecord(
      JSON.stringify(
        jobMessage(
          unitsFor(
            [
              {
                rule: 'stripe-subscription-ended',
                customer: { by: 'lookup', lookup: 'stripe', value: customer },
                removeTags: ['Subscriber'],
                addTags: ['Churned'],
              },
            ],
            { source: 'stripe', id: 'evt_1' },
          )[0]!,
        ),
      ),
    );

  it('looks the customer up itself and changes the tags', async () => {
    const handler = await coldStart<WorkerHandler>('worker', queues);

    await expect(handler({ Records: [record('cus_Qh7GraceHopper')] }, lambdaContext(60_000))).resolves.toEqual({
      batchItemFailures: [],
    });
    expect(tagsOf(1002)).toEqual(['VIP', 'Churned']);
  });

  it('returns the message to the queue after its backoff when the lookup cannot reach the API: one request, no retry inside Lambda', async () => {
    const handler = await coldStart<WorkerHandler>('worker', queues, closedOrigin);

    await expect(handler({ Records: [record('cus_Qh7GraceHopper')] }, lambdaContext(60_000))).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: 'm-1' }],
    });
    expect(
      sqsMock.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input.VisibilityTimeout),
    ).toEqual([expect.any(Number)]);
    const job = logLines().find((line) => line.message === 'job failed')!.job;
    expect(job).toMatchObject({ reason: 'lookup_unavailable', requests: 1 });
    expect(sandbox.requests).toEqual([]);
  });
});
