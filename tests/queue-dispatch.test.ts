/**
 * The webhook and EventBridge functions with DISPATCH=queue: the real handler modules verify,
 * validate and map as in inline mode, then enqueue (SQS mocked at the SDK) instead of calling
 * HelpCrunch, which must see no request at all.
 */
import { createHmac } from 'node:crypto';
import {
  QueueDoesNotExist,
  SendMessageBatchCommand,
  SQSClient,
  type SendMessageBatchCommandInput,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2, Context, EventBridgeEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHelpCrunchSandbox, type HelpCrunchSandbox } from '../local/sandbox/helpcrunch-sandbox';
import { startSecretsManagerEndpoint, type SecretsManagerEndpoint } from '../local/sandbox/secrets-manager-endpoint';
import { eventBridgeEvent, lambdaContext, webhookEvent } from './support/lambda-events';
import { useLocalAws } from './support/local-aws';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/helpcrunch-untag-test-jobs';
const CRM_SECRET = 'crm-signing-secret-queue';
const BILLING_SECRET = `whsec_${Buffer.from('billing-signing-secret-queue-000').toString('base64')}`;

const sqsMock = mockClient(SQSClient);
let sandbox: HelpCrunchSandbox;
let secrets: SecretsManagerEndpoint;
let webhook: (event: unknown, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let eventbridge: (event: EventBridgeEvent<string, unknown>, context: Context) => Promise<unknown>;

beforeAll(async () => {
  sandbox = await startHelpCrunchSandbox();
  secrets = await startSecretsManagerEndpoint({
    secrets: { 'helpcrunch-untag/crm-webhook': CRM_SECRET, 'helpcrunch-untag/billing-webhook': BILLING_SECRET },
  });
  useLocalAws({
    secretsUrl: secrets.url,
    helpcrunchUrl: sandbox.url,
    apiKeySecretId: 'helpcrunch-untag/api-key',
    env: { DISPATCH: 'queue', JOBS_QUEUE_URL: QUEUE_URL },
  });
  ({ handler: webhook } = (await import('../functions/webhook')) as unknown as { handler: typeof webhook });
  ({ handler: eventbridge } = (await import('../functions/eventbridge')) as unknown as { handler: typeof eventbridge });
});

afterAll(async () => {
  sqsMock.restore();
  await sandbox.close();
  await secrets.close();
});

beforeEach(() => {
  sandbox.reset();
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
async function invoke(event: unknown) {
  const response = await webhook(event, lambdaContext());
  return { ...response, json: JSON.parse(response.body ?? 'null') };
}
const queued = () =>
  sqsMock
    .commandCalls(SendMessageBatchCommand)
    .flatMap((call) => call.args[0].input.Entries!.map((entry) => JSON.parse(entry.MessageBody!)));

describe('webhook, DISPATCH=queue', () => {
  it('answers 202 {"queued":N} with one message per job, and never calls HelpCrunch', async () => {
    const event = crmEvent([
      { status: 'lost', person: { email: 'ada@example.com' } },
      { status: 'won', person: { email: 'grace@example.com' } },
      { status: 'lost', person: { email: 'alan@example.com' } },
    ]);
    const response = await invoke(event);

    expect(response.statusCode).toBe(202);
    expect(response.json).toEqual({ queued: 2 });
    const requestId = (event as { requestContext: { requestId: string } }).requestContext.requestId;
    expect(queued()).toEqual([
      {
        v: 2,
        eventId: requestId,
        source: 'crm',
        rule: 'deal-lost',
        customer: { by: 'email', value: 'ada@example.com' },
        removeTags: ['Lead', 'Trial user'],
        addTags: [],
        attempt: 0,
      },
      {
        v: 2,
        eventId: requestId,
        source: 'crm',
        rule: 'deal-lost',
        customer: { by: 'email', value: 'alan@example.com' },
        removeTags: ['Lead', 'Trial user'],
        addTags: [],
        attempt: 0,
      },
    ]);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)[0]!.args[0].input.QueueUrl).toBe(QUEUE_URL);
    expect(sandbox.requests).toEqual([]);
  });

  it('carries the sender’s webhook-id as the event id', async () => {
    const body = JSON.stringify({ type: 'subscription.cancelled', data: { customer_id: 'u-grace' } });
    const id = 'msg_queue_1',
      timestamp = Math.floor(Date.now() / 1000);
    const key = Buffer.from(BILLING_SECRET.slice('whsec_'.length), 'base64');
    const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': `v1,${signature}`,
    };
    const response = await invoke(webhookEvent('http-api', { source: 'billing', body, headers }));

    expect(response.statusCode).toBe(202);
    expect(queued()).toEqual([
      expect.objectContaining({
        eventId: 'msg_queue_1',
        source: 'billing',
        rule: 'subscription-cancelled',
        customer: { by: 'userId', value: 'u-grace' },
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
  it('resolves {queued: N} with the EventBridge event id on each message', async () => {
    const event = eventBridgeEvent('crm.app', 'Account Closed', { helpcrunchId: '1004' });

    await expect(eventbridge(event, lambdaContext())).resolves.toEqual({ queued: 1 });
    expect(queued()).toEqual([
      {
        v: 2,
        eventId: event.id,
        source: 'crm.app',
        rule: 'account-closed',
        customer: { by: 'helpcrunchId', value: 1004 },
        removeTags: ['VIP', 'Lead'],
        addTags: [],
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
