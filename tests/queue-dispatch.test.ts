/**
 * The webhook and EventBridge functions with DISPATCH=queue: the real handler modules verify,
 * validate and map as in inline mode, then enqueue (SQS mocked at the SDK) instead of calling
 * HelpCrunch, which must see no request at all. The worker function takes what they queued.
 */
import { createHmac } from 'node:crypto';
import {
  QueueDoesNotExist,
  SendMessageBatchCommand,
  SQSClient,
  type SendMessageBatchCommandInput,
} from '@aws-sdk/client-sqs';
import type {
  APIGatewayProxyStructuredResultV2,
  Context,
  EventBridgeEvent,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { digest } from '../lib/digest';
import {
  DEFAULT_SANDBOX_API_KEY,
  startHelpCrunchSandbox,
  type HelpCrunchSandbox,
} from '../local/sandbox/helpcrunch-sandbox';
import { startSecretsManagerEndpoint, type SecretsManagerEndpoint } from '../local/sandbox/secrets-manager-endpoint';
import { badBatches, refusalOf, signedBatch } from './support/bad-batches';
import { eventBridgeEvent, lambdaContext, sqsRecord, webhookEvent } from './support/lambda-events';
import { useLocalLedger, type LocalLedger } from './support/ledger';
import { billingRequest } from './support/suite-events';
import { captureOutput, useLocalAws, type CapturedOutput } from './support/local-aws';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/helpcrunch-untag-test-jobs';
const DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/helpcrunch-untag-test-jobs-dlq';
const STRIPE_SECRET = 'whsec_6e1a9c3f5b7d2468ace13579bdf0cc22';
const CRM_SECRET = 'crm-signing-secret-queue';
const BILLING_SECRET = `whsec_${Buffer.from('billing-signing-secret-queue-000').toString('base64')}`;
const signingSecrets = { crm: CRM_SECRET, stripe: STRIPE_SECRET };

const sqsMock = mockClient(SQSClient);
let sandbox: HelpCrunchSandbox;
let secrets: SecretsManagerEndpoint;
let webhook: (event: unknown, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let eventbridge: (event: EventBridgeEvent<string, unknown>, context: Context) => Promise<unknown>;
let worker: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
let ledger: LocalLedger;
let output: CapturedOutput;

beforeAll(async () => {
  sandbox = await startHelpCrunchSandbox();
  secrets = await startSecretsManagerEndpoint({
    secrets: {
      'helpcrunch-untag/api-key': DEFAULT_SANDBOX_API_KEY,
      'helpcrunch-untag/crm-webhook': CRM_SECRET,
      'helpcrunch-untag/billing-webhook': BILLING_SECRET,
      'helpcrunch-untag/stripe-webhook': STRIPE_SECRET,
    },
  });
  ledger = await useLocalLedger();
  useLocalAws({
    secretsUrl: secrets.url,
    helpcrunchUrl: sandbox.url,
    apiKeySecretId: 'helpcrunch-untag/api-key',
    env: {
      DISPATCH: 'queue',
      JOBS_QUEUE_URL: QUEUE_URL,
      DEAD_LETTER_QUEUE_URL: DLQ_URL,
      HELPCRUNCH_RATE_PER_MINUTE: '6000',
    },
  });
  output = captureOutput();
  ({ handler: webhook } = (await import('../functions/webhook')) as unknown as { handler: typeof webhook });
  ({ handler: eventbridge } = (await import('../functions/eventbridge')) as unknown as { handler: typeof eventbridge });
  ({ handler: worker } = (await import('../functions/worker')) as unknown as { handler: typeof worker });
});

afterAll(async () => {
  output.restore();
  sqsMock.restore();
  await sandbox.close();
  await secrets.close();
});

beforeEach(async () => {
  sandbox.reset();
  await ledger.reset();
  sqsMock.reset();
  sqsMock.on(SendMessageBatchCommand).callsFake(async (input: SendMessageBatchCommandInput) => ({
    Successful: input.Entries!.map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}`, MD5OfMessageBody: '' })),
    Failed: [],
  }));
});

const sign = (body: string) => `sha256=${createHmac('sha256', CRM_SECRET).update(body).digest('hex')}`;
function crmEvent(payload: unknown, signature?: string) {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return webhookEvent('http-api', { source: 'crm', body, headers: { 'X-Signature': signature ?? sign(body) } });
}
/** A Standard Webhooks delivery to the billing source: `id` its webhook-id, `occurredAt` its payload's time. */
const billingEvent = (id: string, options?: Parameters<typeof billingRequest>[2]) =>
  webhookEvent('http-api', billingRequest(BILLING_SECRET, id, options));

async function invoke(event: unknown) {
  const response = await webhook(event, lambdaContext());
  return { ...response, json: JSON.parse(response.body ?? 'null') };
}
const queuedEntries = () =>
  sqsMock.commandCalls(SendMessageBatchCommand).flatMap((call) => call.args[0].input.Entries!);
const queued = () => queuedEntries().map((entry) => JSON.parse(entry.MessageBody!));

describe('webhook, DISPATCH=queue', () => {
  it('answers 202 {"queued":N} with one message per unit, and never calls HelpCrunch', async () => {
    const body = JSON.stringify([
      { status: 'lost', person: { email: 'ada@example.com' } },
      { status: 'won', person: { email: 'grace@example.com' } },
      { status: 'lost', person: { email: 'alan@example.com' } },
    ]);
    const before = Date.now();
    const response = await invoke(crmEvent(body));

    expect(response.statusCode).toBe(202);
    expect(response.json).toEqual({ queued: 2 });
    // The crm source names no event id or time: each element is the event the digest of the source,
    // its index and the body names, and it occurred when it was received.
    const [ada, alan] = queued();
    expect([ada, alan]).toEqual([
      {
        v: 3,
        event: { source: 'crm', id: `digest:${digest('crm', '0', body)}`, occurredAt: expect.any(Number) },
        customer: { by: 'email', value: 'ada@example.com' },
        jobs: [{ rule: 'deal-lost', removeTags: ['Lead', 'Trial user'], addTags: [] }],
        attempt: 0,
      },
      {
        v: 3,
        event: { source: 'crm', id: `digest:${digest('crm', '2', body)}`, occurredAt: ada.event.occurredAt },
        customer: { by: 'email', value: 'alan@example.com' },
        jobs: [{ rule: 'deal-lost', removeTags: ['Lead', 'Trial user'], addTags: [] }],
        attempt: 0,
      },
    ]);
    expect(ada.event.occurredAt).toBeGreaterThanOrEqual(before);
    expect(ada.event.occurredAt).toBeLessThanOrEqual(Date.now());
    expect(sqsMock.commandCalls(SendMessageBatchCommand)[0]!.args[0].input.QueueUrl).toBe(QUEUE_URL);
    expect(sandbox.requests).toEqual([]);
  });

  it('carries the sender’s webhook-id as the event id, and the payload’s timestamp as its time', async () => {
    const response = await invoke(billingEvent('msg_queue_1', { occurredAt: Date.parse('2026-11-24T08:00:00.250Z') }));

    expect(response.statusCode).toBe(202);
    expect(queued()).toEqual([
      expect.objectContaining({
        event: { source: 'billing', id: 'msg_queue_1', occurredAt: Date.parse('2026-11-24T08:00:00.250Z') },
        customer: { by: 'userId', value: 'u-grace' },
        jobs: [{ rule: 'subscription-cancelled', removeTags: ['Subscriber'], addTags: [] }],
      }),
    ]);
  });

  it('answers 202 for a replayed signed request too, and the worker skips its message as duplicate_event', async () => {
    // The same body and signature twice within the tolerance: one message each (SQS's own deduplication
    // drops the second only within 5 minutes), and the worker applies the event once.
    const event = billingEvent('msg_replayed_q');
    expect((await invoke(event)).statusCode).toBe(202);
    expect((await invoke(event)).statusCode).toBe(202);
    const [first, second] = queuedEntries();
    expect(second!.MessageDeduplicationId).toBe(first!.MessageDeduplicationId);
    const record = (entry: typeof first, messageId: string) =>
      sqsRecord(entry!.MessageBody!, { messageId, groupId: entry!.MessageGroupId });

    await expect(worker({ Records: [record(first, 'q-1')] }, lambdaContext(60_000))).resolves.toEqual({
      batchItemFailures: [],
    });
    const applied = sandbox.requests.map((r) => `${r.method} ${r.path}`);
    sandbox.reset();
    const mark = output.text().length;
    await expect(worker({ Records: [record(second, 'q-2')] }, lambdaContext(60_000))).resolves.toEqual({
      batchItemFailures: [],
    });

    expect(applied).toEqual(['POST /v1/customers/search', 'DELETE /v1/customers/1002/tags']);
    expect(sandbox.requests).toEqual([]);
    expect(sandbox.customer(1002)?.tags.map((tag) => tag.name)).toEqual(['Subscriber', 'VIP']);
    const skipped = output
      .text()
      .slice(mark)
      .split('\n')
      .filter((line) => line.includes('"job skipped"'))
      .map((line) => JSON.parse(line) as { job: Record<string, unknown> });
    expect(skipped).toEqual([
      expect.objectContaining({
        job: expect.objectContaining({ status: 'skipped', reason: 'duplicate_event', customerId: 1002 }),
      }),
    ]);
  });

  it('answers 202 {"queued":0} and sends nothing when no rule matches', async () => {
    const response = await invoke(crmEvent({ status: 'won', person: { email: 'ada@example.com' } }));

    expect(response.statusCode).toBe(202);
    expect(response.json).toEqual({ queued: 0 });
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toEqual([]);
  });

  it.each([
    ['400 for a body that is not JSON', () => crmEvent('{"status":'), 400, 'invalid_json'],
    [
      '400 for a matched rule without its customer field',
      () => crmEvent({ status: 'lost', person: {} }),
      400,
      'invalid_customer',
    ],
    [
      '401 for a wrong signature',
      () => crmEvent({ status: 'lost', person: { email: 'ada@example.com' } }, sign('other')),
      401,
      'invalid_signature',
    ],
    [
      '404 for an unknown source',
      () => webhookEvent('http-api', { source: 'nope', body: '{}' }),
      404,
      'unknown_source',
    ],
  ])('%s, at once and with nothing enqueued', async (_, event, status, code) => {
    const response = await invoke(event());

    expect(response.statusCode).toBe(status);
    expect(response.json.errors[0].code).toBe(code);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toEqual([]);
  });

  it.each(badBatches)(
    '400 invalid_customer for a batch with $title, refused whole: nothing enqueued',
    async (batch) => {
      const response = await invoke(webhookEvent('http-api', signedBatch(batch, signingSecrets)));

      expect(response).toMatchObject(refusalOf(batch));
      expect(sqsMock.commandCalls(SendMessageBatchCommand)).toEqual([]);
    },
  );

  it('503 with Retry-After when SQS keeps failing the messages: the sender retries, nothing is dropped', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolves({ Successful: [], Failed: [{ Id: '0', SenderFault: false, Code: 'ServiceUnavailable' }] });
    const response = await invoke(crmEvent({ status: 'lost', person: { email: 'ada@example.com' } }));

    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toMatch(/^\d+$/);
    expect(response.json.errors[0].code).toBe('queue_unavailable');
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
  });

  it('500 when the queue does not exist (a deployment problem)', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .rejects(new QueueDoesNotExist({ message: 'The specified queue does not exist.', $metadata: {} }));
    const response = await invoke(crmEvent({ status: 'lost', person: { email: 'ada@example.com' } }));

    expect(response.statusCode).toBe(500);
    expect(response.json.errors[0]).toEqual({
      code: 'queue_misconfigured',
      message: 'SQS refused SendMessageBatch (QueueDoesNotExist)',
    });
  });
});

describe('EventBridge, DISPATCH=queue', () => {
  it('resolves {queued: N} with the EventBridge event id and time on each message', async () => {
    const event = eventBridgeEvent('crm.app', 'Account Closed', { helpcrunchId: '1004' });

    await expect(eventbridge(event, lambdaContext())).resolves.toEqual({ queued: 1 });
    expect(queued()).toEqual([
      {
        v: 3,
        event: { source: 'crm.app', id: event.id, occurredAt: Date.parse(event.time) },
        customer: { by: 'helpcrunchId', value: 1004 },
        jobs: [{ rule: 'account-closed', removeTags: ['VIP', 'Lead'], addTags: [] }],
        attempt: 0,
      },
    ]);
    expect(sandbox.requests).toEqual([]);
  });

  it('rejects as retryable when the jobs cannot be enqueued, so Lambda retries the event', async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    const event = eventBridgeEvent('crm.app', 'Account Closed', { helpcrunchId: 1001 });

    await expect(eventbridge(event, lambdaContext())).rejects.toThrow(/^retryable: queue_unavailable: /);
  });

  it('rejects a bad event as not retryable without enqueuing anything', async () => {
    const event = eventBridgeEvent('billing.app', 'Subscription Expired', { account: {} });

    await expect(eventbridge(event, lambdaContext())).rejects.toThrow(/^not retryable: invalid_customer/);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toEqual([]);
  });
});
