/**
 * functions/worker.ts end to end: the real handler module and runtime wiring, the HelpCrunch
 * sandbox and a Secrets Manager endpoint on loopback, SQS mocked at the SDK.
 */
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHelpCrunchSandbox, type HelpCrunchSandbox } from '../local/sandbox/helpcrunch-sandbox';
import { jobMessage } from '../lib/queue/job-message';
import { startSecretsManagerEndpoint, type SecretsManagerEndpoint } from '../local/sandbox/secrets-manager-endpoint';
import { lambdaContext, sqsRecord } from './support/lambda-events';
import { ledgerItems, useLocalLedger, type LocalLedger } from './support/ledger';
import { captureOutput, useLocalAws, type CapturedOutput } from './support/local-aws';
import { unitsFor } from './support/pipeline';

const API_KEY = 'hc-worker-live-key-77aa';
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/helpcrunch-untag-test-jobs';
const DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/helpcrunch-untag-test-jobs-dlq';
const workerEnv = {
  JOBS_QUEUE_URL: QUEUE_URL,
  HELPCRUNCH_RATE_PER_MINUTE: '6000',
  MAX_RECEIVE_COUNT: '8',
  MAX_CUSTOMERS_PER_REQUEST: '2',
};

const sqsMock = mockClient(SQSClient);
let sandbox: HelpCrunchSandbox;
let secrets: SecretsManagerEndpoint;
let output: CapturedOutput;
let handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
let ledger: LocalLedger;

beforeAll(async () => {
  sandbox = await startHelpCrunchSandbox({ apiKey: API_KEY });
  secrets = await startSecretsManagerEndpoint({ secrets: { 'helpcrunch-untag/api-key': API_KEY } });
  ledger = await useLocalLedger();
  useLocalAws({
    secretsUrl: secrets.url,
    helpcrunchUrl: sandbox.url,
    apiKeySecretId: 'helpcrunch-untag/api-key',
    // Events must stay out of the logs even when this asks for them.
    env: { ...workerEnv, DEAD_LETTER_QUEUE_URL: undefined, POWERTOOLS_LOGGER_LOG_EVENT: 'true' },
  });
  output = captureOutput();
  ({ handler } = (await import('../functions/worker')) as unknown as { handler: typeof handler });
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
  sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
});

let nextId = 0;
function record(body: unknown): SQSRecord {
  return sqsRecord(typeof body === 'string' ? body : JSON.stringify(body), { messageId: `msg-${++nextId}` });
}
/** The queue message of a lost deal's unit for the customer with this email. */
const job = (email: string) =>
  jobMessage(
    unitsFor(
      [{ rule: 'deal-lost', customer: { by: 'email', value: email }, removeTags: ['Lead', 'Trial user'], addTags: [] }],
      { source: 'crm', id: `evt-${email}` },
    )[0]!,
  );
const tagsOf = (id: number) => sandbox.customer(id)?.tags.map((tag) => tag.name);

describe('worker handler', () => {
  // First: the runtime is built on the first invocation and kept only once it succeeds.
  it('throws while misconfigured, leaving the whole batch in the queue; works once fixed', async () => {
    const event = { Records: [record(job('ada@example.com'))] };
    await expect(handler(event, lambdaContext(60_000))).rejects.toThrow('DEAD_LETTER_QUEUE_URL is not set');
    expect(sandbox.requests).toEqual([]);

    process.env.DEAD_LETTER_QUEUE_URL = DLQ_URL;
    await expect(handler(event, lambdaContext(60_000))).resolves.toEqual({ batchItemFailures: [] });
    expect(tagsOf(1001)).toEqual([]);
  });

  it('untags, dead-letters and retries message by message, answering with the batch item failures', async () => {
    const good = record(job('katherine@example.com'));
    const malformed = record('{"v":3');
    const response = await handler({ Records: [good, malformed] }, lambdaContext(60_000));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(tagsOf(1004)).toEqual(['Subscriber', 'VIP']);
    expect(sqsMock.commandCalls(SendMessageCommand).map((call) => call.args[0].input)).toEqual([
      expect.objectContaining({
        QueueUrl: DLQ_URL,
        MessageBody: '{"v":3',
        MessageAttributes: expect.objectContaining({ reason: { DataType: 'String', StringValue: 'invalid_message' } }),
      }),
    ]);

    sandbox.setFaults({ rate5xx: 1 });
    const failing = record(job('alan@example.com'));
    const retried = await handler({ Records: [failing] }, lambdaContext(60_000));

    expect(retried).toEqual({ batchItemFailures: [{ itemIdentifier: failing.messageId }] });
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input)).toEqual([
      { QueueUrl: QUEUE_URL, ReceiptHandle: failing.receiptHandle, VisibilityTimeout: expect.any(Number) },
    ]);
    // katherine: search + delete; alan: one search answered 500, no retry inside Lambda.
    expect(sandbox.requests.map((r) => r.status)).toEqual([200, 200, 500]);
  });

  it('dead-letters a unit naming more customers than MAX_CUSTOMERS_PER_REQUEST with reason too_many_customers, writing nothing', async () => {
    // HelpCrunch lets customers share an email: this one names three, the cap here is two.
    const shared = [1101, 1102, 1103].map((id) => ({
      id,
      email: 'shared@example.com',
      userId: null,
      name: null,
      tags: [{ name: 'Lead', color: '#2196f3' }],
    }));
    sandbox.reset(shared);
    const message = record(job('shared@example.com'));

    await expect(handler({ Records: [message] }, lambdaContext(60_000))).resolves.toEqual({ batchItemFailures: [] });

    expect(sqsMock.commandCalls(SendMessageCommand).map((call) => call.args[0].input)).toEqual([
      expect.objectContaining({
        QueueUrl: DLQ_URL,
        MessageAttributes: expect.objectContaining({
          reason: { DataType: 'String', StringValue: 'too_many_customers' },
        }),
      }),
    ]);
    // The search that counted them, and nothing written: no tag changed, no unit remembered as applied.
    expect(sandbox.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/customers/search']);
    expect(sandbox.customers().map((customer) => customer.tags.map((tag) => tag.name))).toEqual([
      ['Lead'],
      ['Lead'],
      ['Lead'],
    ]);
    expect(await ledgerItems(ledger.tableName)).toEqual([]);
  });

  it('logs each message’s outcome with its event id, and never the API key', async () => {
    await handler({ Records: [record(job('grace@example.com')), record('[]')] }, lambdaContext(60_000));

    const logs = output.text();
    expect(logs).toMatch(/"message":"message done".*"eventId":"evt-grace@example.com"/);
    expect(logs).toMatch(/"message":"message dead-letter".*"code":"invalid_message"/);
    expect(logs).not.toContain('reserved key');
    expect(logs).not.toContain('Lambda invocation event');
    expect(logs).not.toContain('handle-msg-'); // receipt handles are only in the event
    for (const secret of [API_KEY, 'Bearer ']) expect(logs).not.toContain(secret);
  });
});
