/**
 * The queue path on a FIFO jobs queue, over real HTTP: enqueueUnits and the queue worker
 * (lib/queue) through the real SDK adapter against the local SQS (local/sandbox/sqs-endpoint.ts),
 * records as Lambda's FIFO event source hands them over, and a programmable HelpCrunch stand-in.
 * One customer's jobs are never applied out of order: each customer is a message group, and once
 * one of its jobs fails, the rest of its group in the batch comes back untried, behind it.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { enqueueUnits } from '../lib/queue/enqueue';
import { deadLetterDeduplicationId, messageGroupId } from '../lib/queue/fifo-ids';
import { createPacedHelpCrunchClient } from '../lib/queue/paced-client';
import { sqsApi } from '../lib/queue/sqs-api';
import { TokenBucket } from '../lib/queue/token-bucket';
import { batchResponse, createQueueWorker, type QueueWorkerOptions } from '../lib/queue/worker';
import { RetryBudget } from '../lib/http/retry';
import type { CustomerRef, Job } from '../lib/types';
import { failedMessageIds, toSqsRecord } from '../local/host/sqs-event-source';
import { type HelpCrunchSandbox, startHelpCrunchSandbox } from '../local/sandbox/helpcrunch-sandbox';
import type { SqsEndpoint } from '../local/sandbox/sqs-endpoint';
import { startLocalSqs, type LocalSqs } from './support/local-sqs';
import { pipelineWith, unitsFor } from './support/pipeline';

let helpcrunch: HelpCrunchSandbox;
const KEY = 'fifo-key';
const customer = (id: number) => ({
  id,
  email: `c${id}@example.com`,
  userId: null,
  name: null,
  tags: [{ name: 'Lead', color: '#000000' }],
});
let local: LocalSqs;
let sqs: SqsEndpoint;
let client: SQSClient;
let clock: number;
let jobsUrl: string;
let deadLettersUrl: string;

beforeAll(async () => {
  helpcrunch = await startHelpCrunchSandbox({ apiKey: KEY, customers: [customer(1001), customer(2002)] });
});
afterAll(() => helpcrunch.close());

beforeEach(async () => {
  helpcrunch.reset();
  clock = Date.now();
  local = await startLocalSqs({
    name: 'jobs',
    fifo: true,
    visibilityTimeoutSeconds: 360,
    maxReceiveCount: 100,
    now: () => clock,
  });
  ({ endpoint: sqs, client, jobsUrl, deadLettersUrl } = local);
});
afterEach(() => local.close());

async function worker(overrides: Partial<QueueWorkerOptions> = {}) {
  return createQueueWorker({
    pipeline: await pipelineWith(
      createPacedHelpCrunchClient({
        baseUrl: helpcrunch.url,
        apiKey: { get: async () => KEY },
        timeoutMs: 2_000,
        bucket: new TokenBucket({ ratePerSecond: 1_000 }),
      }),
    ),
    sqs: sqsApi(client),
    queueUrl: jobsUrl,
    deadLetterQueueUrl: deadLettersUrl,
    maxReceiveCount: 8,
    minJobMs: 1_000,
    random: () => 1,
    ...overrides,
  });
}

const jobOf = (customer: CustomerRef, rule = 'deal-lost'): Job => ({
  rule,
  customer,
  removeTags: ['Lead'],
  addTags: [],
});

/** Queues the jobs as the triggers queue one event's. */
const enqueue = (jobs: Job[], eventId = 'evt-1') =>
  enqueueUnits(unitsFor(jobs, { source: 'crm', id: eventId, occurredAt: Date.UTC(2026, 10, 1) }), {
    sqs: sqsApi(client),
    queueUrl: jobsUrl,
    budget: RetryBudget.until(Date.now() + 10_000),
  });

/** One event per customer id, each a minute after the one before, queued in that order. */
async function queue(...customers: number[]) {
  for (const [index, value] of customers.entries()) {
    const event = { source: 'crm', id: `evt-${index}`, occurredAt: Date.UTC(2026, 10, 1) + index * 60_000 };
    await enqueueUnits(unitsFor([jobOf({ by: 'helpcrunchId', value })], event), {
      sqs: sqsApi(client),
      queueUrl: jobsUrl,
      budget: RetryBudget.until(Date.now() + 10_000),
    });
  }
}

/** What Lambda's event source does: receive a batch, shaped as Lambda's records. */
function receiveBatch(): SQSRecord[] {
  return sqs.model.receive(jobsUrl, 10).map((message) => toSqsRecord(message, sqs.model.arnOf(jobsUrl), 'us-east-1'));
}

/** …and after the invocation: delete what the batch response does not list. */
function settle(records: SQSRecord[], response: unknown) {
  const failed = failedMessageIds(response, records);
  for (const record of records)
    if (!failed.has(record.messageId)) sqs.model.deleteMessage(jobsUrl, record.receiptHandle);
}

const customerOf = (record: SQSRecord) => JSON.parse(record.body).customer.value as number;
const deleted = () => helpcrunch.requests.map((request) => Number(request.path.split('/')[3]));
const budget = () => RetryBudget.until(Date.now() + 30_000);

describe('enqueueUnits on a FIFO queue', () => {
  it('puts an event’s jobs for one customer in one message of that customer’s group; a sender’s retry of the event within 5 minutes adds nothing', async () => {
    const ada = { by: 'email', value: 'ada@example.com' } as const;
    const jobs = [jobOf(ada), jobOf({ by: 'userId', value: 'u-1' }), jobOf(ada, 'deal-won')];
    await expect(enqueue(jobs)).resolves.toBe(2);
    await expect(enqueue(jobs)).resolves.toBe(2);

    const messages = sqs.model.messages(jobsUrl);
    // Two, not four.
    const rules = (body: string) => JSON.parse(body).jobs.map((job: { rule: string }) => job.rule);
    expect(messages.map((message) => [rules(message.body), message.groupId])).toEqual([
      [['deal-lost', 'deal-won'], messageGroupId(ada)],
      [['deal-lost'], messageGroupId({ by: 'userId', value: 'u-1' })],
    ]);
    // Another event's jobs are new messages.
    await enqueue(jobs, 'evt-2');
    expect(sqs.model.messages(jobsUrl)).toHaveLength(4);
  });

  it('names groups within SQS’s limits whatever the reference: a 100 KB email, a lookup’s id', async () => {
    const huge = { by: 'email', value: `${'x'.repeat(100 * 1024)}@example.com` } as const;
    const stripe = { by: 'lookup', lookup: 'stripe', value: 'cus_1' } as const;
    const paddle = { by: 'lookup', lookup: 'paddle', value: 'cus_1' } as const;
    await enqueue([jobOf(huge), jobOf(stripe), jobOf(paddle)]);

    const groups = sqs.model.messages(jobsUrl).map((message) => message.groupId!);
    for (const group of groups) expect(group).toMatch(/^[0-9a-f]{64}$/);
    // The same sender id in two lookups is two customers.
    expect(new Set(groups).size).toBe(3);
    // An email's case does not make another customer.
    expect(messageGroupId({ by: 'email', value: 'Ada@Example.com' })).toBe(
      messageGroupId({ by: 'email', value: 'ada@example.com' }),
    );
  });
});

describe('the worker on a FIFO queue', () => {
  it('holds back the rest of a customer’s jobs after one fails, and goes on with the other customers’', async () => {
    // Customer 1001 has three jobs, 2002 two; the first job of 1001 meets a 429.
    helpcrunch.script('*', { error: 'tooManyRequests', retryAfter: 10 });
    await queue(1001, 2002, 1001, 1001, 2002);
    const records = receiveBatch();
    expect(records.map(customerOf)).toEqual([1001, 1001, 1001, 2002, 2002]);

    const results = await (await worker()).processBatch(records, budget());
    expect(results.map((result) => result.action)).toEqual(['retry', 'held', 'held', 'done', 'done']);
    expect(results[1]).toMatchObject({ heldBehind: records[0]!.messageId });
    // 1001's later jobs were never tried.
    expect(deleted()).toEqual([1001, 2002, 2002]);
    const response = batchResponse(results);
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(
      records.slice(0, 3).map((record) => record.messageId),
    );
    settle(records, response);

    // The held jobs are visible again at once, yet 1001's group waits out its first job's backoff…
    expect(sqs.model.depth(jobsUrl)).toEqual({ visible: 2, inFlight: 1, delayed: 0 });
    expect(receiveBatch()).toEqual([]);
    clock += 9_000;
    expect(receiveBatch()).toEqual([]);
    // …then comes back whole and in order.
    clock += 1_000;
    const again = receiveBatch();
    expect(again.map((record) => [customerOf(record), record.attributes.ApproximateReceiveCount])).toEqual([
      [1001, '2'],
      [1001, '2'],
      [1001, '2'],
    ]);
    settle(again, batchResponse(await (await worker()).processBatch(again, budget())));
    expect(deleted()).toEqual([1001, 2002, 2002, 1001, 1001, 1001]);
    expect(sqs.model.messages(jobsUrl)).toEqual([]);
  });

  it('holds back a customer’s later jobs behind a deferred one, leaving them to the visibility timeout', async () => {
    await queue(1001, 1001);
    const records = receiveBatch();

    const results = await (await worker({ minJobMs: 60_000 })).processBatch(records, budget());
    expect(results.map((result) => result.action)).toEqual(['deferred', 'held']);
    expect(helpcrunch.requests).toEqual([]);
    // Not released: both come back together once the queue's visibility timeout ends.
    settle(records, batchResponse(results));
    clock += 359_000;
    expect(receiveBatch()).toEqual([]);
    clock += 1_000;
    expect(receiveBatch().map(customerOf)).toEqual([1001, 1001]);
  });

  it('a job dead-lettered for good does not hold back its customer’s next one; its copy keeps the group', async () => {
    helpcrunch.script('*', { error: 'invalidTags' });
    await queue(1001, 1001);
    const records = receiveBatch();

    const results = await (await worker()).processBatch(records, budget());
    expect(results.map((result) => result.action)).toEqual(['dead-letter', 'done']);
    const [dead] = sqs.model.messages(deadLettersUrl);
    expect(dead).toMatchObject({
      groupId: messageGroupId({ by: 'helpcrunchId', value: 1001 }),
      deduplicationId: deadLetterDeduplicationId(records[0]!.messageId),
      attributes: { reason: { DataType: 'String', StringValue: 'helpcrunch_bad_request' } },
    });
  });

  it('sends a dead letter once, however often the same receive is dead-lettered', async () => {
    await sqs.model.sendMessage({
      QueueUrl: jobsUrl,
      MessageBody: 'not a job',
      MessageGroupId: 'g',
      MessageDeduplicationId: 'd',
    });
    const records = receiveBatch();
    // The first answer lost, say: the same message dead-lettered again within 5 minutes.
    await (await worker()).processBatch(records, budget());
    await (await worker()).processBatch(records, budget());

    expect(sqs.model.messages(deadLettersUrl).map((message) => [message.body, message.groupId])).toEqual([
      ['not a job', 'g'],
    ]);
  });

  it('a held job whose release fails is still held: it comes back behind its group all the same', async () => {
    helpcrunch.script('*', { error: 'internalError' });
    await queue(1001, 1001);
    const records = receiveBatch();
    // Its receipt handle is stale by the time the worker releases it.
    const stale = { ...records[1]!, receiptHandle: 'stale' };

    const results = await (await worker()).processBatch([records[0]!, stale], budget());
    expect(results[1]).toMatchObject({ action: 'held', queueError: { code: 'queue_misconfigured' } });
    expect(batchResponse(results).batchItemFailures).toHaveLength(2);
  });
});
