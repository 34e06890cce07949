/**
 * The queue worker (lib/queue/worker.ts) message by message: the real paced client over HTTP to the
 * HelpCrunch sandbox (scripted where HelpCrunch fails), the real SQS adapter with the SDK client
 * mocked. Each record is from the FIFO jobs queue, in a group of its own; tests/queue-fifo.test.ts
 * has groups over the local SQS.
 */
import {
  ChangeMessageVisibilityCommand,
  SendMessageCommand,
  SQSClient,
  type SendMessageCommandInput,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/errors';
import { deadLetterDeduplicationId } from '../lib/queue/fifo-ids';
import { jobMessage } from '../lib/queue/job-message';
import { createPacedHelpCrunchClient } from '../lib/queue/paced-client';
import { sqsApi } from '../lib/queue/sqs-api';
import { TokenBucket } from '../lib/queue/token-bucket';
import { batchResponse, createQueueWorker, type QueueWorkerOptions } from '../lib/queue/worker';
import { createLookupResolver, type LookupResolver } from '../lib/lookups/resolver';
import { RetryBudget, singleAttempt } from '../lib/http/retry';
import type { CustomerRef, EventRef, Job } from '../lib/types';
import {
  startHelpCrunchSandbox,
  type HelpCrunchSandbox,
  type SandboxCustomer,
} from '../local/sandbox/helpcrunch-sandbox';
import { startVendorApis, type VendorApis } from '../local/sandbox/vendor-apis';
import { sqsRecord } from './support/lambda-events';
import { pipelineWith, unitsFor } from './support/pipeline';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/helpcrunch-untag-test-jobs';
const DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/helpcrunch-untag-test-jobs-dlq';
const API_KEY = 'hc-worker-key-3c9d';

const sqsMock = mockClient(SQSClient);
let stub: HelpCrunchSandbox;
const customer = (id: number, email: string, tag: string): SandboxCustomer => ({
  id,
  email,
  userId: null,
  name: null,
  tags: [{ name: tag, color: '#c377e0' }],
});

beforeAll(async () => {
  stub = await startHelpCrunchSandbox({
    apiKey: API_KEY,
    customers: [
      customer(1001, 'ada@example.com', 'Lead'),
      customer(1002, 'grace@example.com', 'Subscriber'),
      customer(1005, 'linus@example.com', 'VIP'),
    ],
  });
});
afterAll(async () => {
  sqsMock.restore();
  await stub.close();
});
beforeEach(() => {
  stub.reset();
  sqsMock.reset();
  sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
});

const pacedClient = (bucket = new TokenBucket({ ratePerSecond: 1_000 })) =>
  createPacedHelpCrunchClient({ baseUrl: stub.url, apiKey: { get: async () => API_KEY }, timeoutMs: 2_000, bucket });

async function worker(overrides: Partial<QueueWorkerOptions> = {}) {
  return createQueueWorker({
    pipeline: await pipelineWith(pacedClient()),
    sqs: sqsApi(new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })),
    queueUrl: QUEUE_URL,
    deadLetterQueueUrl: DLQ_URL,
    maxReceiveCount: 8,
    minJobMs: 1_000,
    random: () => 1, // every backoff at its ceiling, so visibilities are exact
    ...overrides,
  });
}

let nextId = 0;
function record(body: string | object, receiveCount = 1): SQSRecord {
  return sqsRecord(typeof body === 'string' ? body : JSON.stringify(body), {
    messageId: `msg-${++nextId}`,
    receiveCount,
    groupId: `customer-${nextId}`,
  });
}

/** A message of one job: the unit of a new event each call (`evt-<n>`), unless given one. */
const messageOf = (job: Job, event: Partial<EventRef> = {}, attempt = 0) =>
  jobMessage(unitsFor([job], event)[0]!, attempt);
const job = (customer: CustomerRef = { by: 'helpcrunchId', value: 1001 }, attempt = 0) =>
  messageOf(
    { rule: 'deal-lost', customer, removeTags: ['Lead', 'Trial user'], addTags: [] },
    { source: 'crm' },
    attempt,
  );
const budget = (ms = 30_000) => RetryBudget.until(Date.now() + ms);
const visibilityCalls = () => sqsMock.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input);
const deadLetters = () =>
  sqsMock.commandCalls(SendMessageCommand).map((call) => call.args[0].input as SendMessageCommandInput);
const helpcrunchCalls = () => stub.requests.map((r) => `${r.method} ${r.path}`);

describe('settled for good: reported as success', () => {
  it('untags and reports the message done, touching no queue', async () => {
    const message = record(job());
    const results = await (await worker()).processBatch([message], budget());

    expect(results).toEqual([
      expect.objectContaining({
        messageId: message.messageId,
        action: 'done',
        eventId: expect.stringMatching(/^evt-/),
        attempt: 1,
      }),
    ]);
    expect(results[0]!.outcomes.map((o) => o.status)).toEqual(['untagged']);
    expect(helpcrunchCalls()).toEqual(['DELETE /v1/customers/1001/tags']);
    expect(stub.requests[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(batchResponse(results)).toEqual({ batchItemFailures: [] });
    expect(sqsMock.calls()).toHaveLength(0);
  });

  it('skips a customer HelpCrunch does not know, with the reason', async () => {
    stub.script('*', { error: 'customerNotFound' });
    const results = await (await worker()).processBatch([record(job())], budget());

    expect(results[0]!.action).toBe('done');
    expect(results[0]!.outcomes).toEqual([
      expect.objectContaining({ status: 'skipped', reason: 'customer_not_found' }),
    ]);
  });

  it('skips the DELETE when the customer found by email carries none of the tags', async () => {
    const results = await (await worker()).processBatch(
      [record(job({ by: 'email', value: 'linus@example.com' }))],
      budget(),
    );

    expect(results[0]!.outcomes).toEqual([expect.objectContaining({ status: 'skipped', reason: 'tags_absent' })]);
    expect(helpcrunchCalls()).toEqual(['POST /v1/customers/search']);
  });
});

describe('retryable: a batch item failure whose visibility is the backoff', () => {
  it('429 with Retry-After: visible again after exactly that long, with no retry inside Lambda', async () => {
    stub.script('*', { error: 'tooManyRequests', retryAfter: 120 });
    const message = record(job());
    const results = await (await worker()).processBatch([message], budget());

    expect(results[0]).toMatchObject({
      action: 'retry',
      visibilitySeconds: 120,
      error: { code: 'helpcrunch_unavailable' },
    });
    expect(visibilityCalls()).toEqual([
      { QueueUrl: QUEUE_URL, ReceiptHandle: message.receiptHandle, VisibilityTimeout: 120 },
    ]);
    expect(stub.requests).toHaveLength(1);
    expect(batchResponse(results)).toEqual({ batchItemFailures: [{ itemIdentifier: message.messageId }] });
  });

  /** The same message tried `times` times by one worker, as SQS hands it back after each backoff. */
  async function tries(times: number, options: Partial<QueueWorkerOptions> = {}) {
    const tried = await worker(options);
    const body = job();
    const results = [];
    for (let attempt = 1; attempt <= times; attempt++) {
      results.push(...(await tried.processBatch([record(body, attempt)], budget())));
    }
    return results;
  }

  it('Retry-After is a floor, not a cap: a longer backoff wins', async () => {
    stub.script('*', { error: 'tooManyRequests', retryAfter: 5, times: 'always' });
    const results = await tries(4);

    // 4th attempt: ceiling min(900 s, 10 s * 2^3) = 80 s > 5 s.
    expect(results.map((r) => r.visibilitySeconds)).toEqual([10, 20, 40, 80]);
  });

  it('429 without Retry-After: exponential backoff over the attempts the worker counted', async () => {
    stub.script('*', { error: 'tooManyRequests', times: 'always' });
    const results = await tries(7);

    expect(results.map((r) => r.visibilitySeconds)).toEqual([10, 20, 40, 80, 160, 320, 640]);
    expect(visibilityCalls().map((c) => c.VisibilityTimeout)).toEqual([10, 20, 40, 80, 160, 320, 640]);
  });

  it('receives behind a failed message of the group do not count: a message received 7 times but tried once backs off as a first attempt', async () => {
    stub.script('*', { error: 'tooManyRequests', times: 'always' });
    const results = await (await worker()).processBatch([record(job(), 7)], budget());

    expect(results[0]).toMatchObject({ action: 'retry', visibilitySeconds: 10, attempt: 1 });
  });

  it('the backoff is jittered, never below 1 s', async () => {
    stub.script('*', { error: 'tooManyRequests', times: 'always' });
    const results = await (await worker({ random: () => 0 })).processBatch([record(job(), 5)], budget());

    expect(results[0]!.visibilitySeconds).toBe(1);
  });

  it('5xx: one request, then the message waits out its backoff in the queue', async () => {
    stub.script('*', { status: 503, times: 'always' });
    const results = await (await worker()).processBatch([record(job(), 2)], budget());

    expect(results[0]).toMatchObject({
      action: 'retry',
      visibilitySeconds: 10,
      error: { message: expect.stringContaining('HelpCrunch answered 503') },
    });
    expect(stub.requests).toHaveLength(1);
  });

  it('a dropped connection is retried the same way', async () => {
    stub.script('*', { drop: true });
    const results = await (await worker()).processBatch([record(job())], budget());

    expect(results[0]).toMatchObject({
      action: 'retry',
      visibilitySeconds: 10,
      error: { code: 'helpcrunch_unavailable' },
    });
  });

  it('on the last attempt, dead-letters with the reason instead of retrying', async () => {
    stub.script('*', { error: 'internalError', times: 'always' });
    // Redriven once before after 8 attempts: this delivery counts afresh.
    const body = job({ by: 'helpcrunchId', value: 1001 }, 8);
    const tried = await worker({ maxReceiveCount: 2 });
    const first = await tried.processBatch([record(body, 1)], budget());
    const results = await tried.processBatch([record(body, 2)], budget());

    expect(first[0]).toMatchObject({ action: 'retry', attempt: 9 });
    expect(results[0]).toMatchObject({ action: 'dead-letter', attempt: 10 });
    expect(visibilityCalls()).toHaveLength(1);
    const [sent] = deadLetters();
    expect(sent!.QueueUrl).toBe(DLQ_URL);
    expect(JSON.parse(sent!.MessageBody!)).toEqual({ ...body, attempt: 10 });
    expect(sent!.MessageAttributes!.reason!.StringValue).toBe('helpcrunch_unavailable');
    expect(sent!.MessageAttributes!.reasonDetail!.StringValue).toMatch(
      /HelpCrunch answered 500.*gave up after 10 attempts/,
    );
    expect(batchResponse(results).batchItemFailures).toEqual([]);
  });
});

describe('permanent: straight to the dead-letter queue, then deleted from the jobs queue', () => {
  it('400 from HelpCrunch: dead-lettered with its reason and the attempt count', async () => {
    stub.script('*', {
      status: 400,
      body: { errors: [{ code: 'invalid_tags', message: 'Body must be {"tags":[…]}' }] },
    });
    const message = record(job(), 2);
    const results = await (await worker()).processBatch([message], budget());

    expect(results[0]).toMatchObject({ action: 'dead-letter', error: { code: 'helpcrunch_bad_request' } });
    const [sent] = deadLetters();
    // The FIFO dead-letter queue keeps the message's group; a re-send of this copy would be dropped.
    expect(sent).toMatchObject({
      MessageGroupId: message.attributes.MessageGroupId,
      MessageDeduplicationId: deadLetterDeduplicationId(message.messageId),
    });
    expect(JSON.parse(sent!.MessageBody!)).toMatchObject({ jobs: [{ rule: 'deal-lost' }], attempt: 2 });
    expect(sent!.MessageAttributes!.reason).toEqual({ DataType: 'String', StringValue: 'helpcrunch_bad_request' });
    expect(sent!.MessageAttributes!.reasonDetail!.StringValue).toContain('invalid_tags');
    expect(sent!.MessageAttributes!.failedAt!.StringValue).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(batchResponse(results).batchItemFailures).toEqual([]);
  });

  it.each([
    ['not JSON', '{"v":1,'],
    ['an unknown version', JSON.stringify({ ...job(), v: 9 })],
    ['no tags', JSON.stringify({ ...job(), jobs: [{ rule: 'deal-lost', removeTags: [], addTags: [] }] })],
    [
      'a customer id that is not a positive integer',
      JSON.stringify({ ...job(), customer: { by: 'helpcrunchId', value: -3 } }),
    ],
  ])('a body with %s: dead-lettered as it is, HelpCrunch never called', async (_, body) => {
    const results = await (await worker()).processBatch([record(body)], budget());

    expect(results[0]).toMatchObject({ action: 'dead-letter', error: { code: 'invalid_message' } });
    expect(deadLetters()[0]!.MessageBody).toBe(body);
    expect(deadLetters()[0]!.MessageAttributes!.reason!.StringValue).toBe('invalid_message');
    expect(stub.requests).toEqual([]);
  });

  it('names a bad version without echoing it (the reason goes to logs and message attributes)', async () => {
    const results = await (await worker()).processBatch(
      [record(JSON.stringify({ ...job(), v: 'x'.repeat(100_000) }))],
      budget(),
    );

    expect(results[0]!.error!.message).toBe('Invalid job message: unsupported version string');
    expect(deadLetters()[0]!.MessageAttributes!.reasonDetail!.StringValue).toBe(
      'Invalid job message: unsupported version string',
    );
  });

  it('stays in the jobs queue when the dead-letter queue cannot take it', async () => {
    sqsMock
      .on(SendMessageCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'RequestThrottled', $fault: 'client' }));
    const message = record('not json');
    const results = await (await worker()).processBatch([message], budget());

    expect(results[0]).toMatchObject({ action: 'retry', queueError: { code: 'queue_unavailable' } });
    expect(batchResponse(results)).toEqual({ batchItemFailures: [{ itemIdentifier: message.messageId }] });
  });
});

describe('a batch', () => {
  it('reports exactly the messages that must come back (partial batch response)', async () => {
    stub.script('*', { pass: true }, { status: 502 }, { error: 'invalidTags' });
    const records = [record(job()), record(job()), record(job()), record('garbage'), record(job())];
    const results = await (await worker()).processBatch(records, budget());

    expect(results.map((r) => r.action)).toEqual(['done', 'retry', 'dead-letter', 'dead-letter', 'done']);
    expect(batchResponse(results)).toEqual({ batchItemFailures: [{ itemIdentifier: records[1]!.messageId }] });
  });

  it('a failed visibility change still reports the failure (the queue’s own timeout then applies)', async () => {
    sqsMock
      .on(ChangeMessageVisibilityCommand)
      .rejects(Object.assign(new Error('gone'), { name: 'ReceiptHandleIsInvalid', $fault: 'client' }));
    stub.script('*', { error: 'internalError' });
    const message = record(job());
    const results = await (await worker()).processBatch([message], budget());

    expect(results[0]).toMatchObject({ action: 'retry', queueError: { code: 'queue_misconfigured' } });
    expect(results[0]!.visibilitySeconds).toBeUndefined();
    expect(batchResponse(results).batchItemFailures).toEqual([{ itemIdentifier: message.messageId }]);
  });

  it('a configuration error holds back the rest of the batch for at least 5 minutes, without calling HelpCrunch', async () => {
    const broken = await worker({
      pipeline: await pipelineWith(
        createPacedHelpCrunchClient({
          baseUrl: stub.url,
          apiKey: {
            get: async () =>
              Promise.reject(new ConfigError("Secret 'k' cannot be read (AccessDeniedException)", 'secret_unreadable')),
          },
          timeoutMs: 2_000,
          bucket: new TokenBucket({ ratePerSecond: 1_000 }),
        }),
      ),
    });
    const results = await broken.processBatch([record(job()), record(job()), record(job(), 8)], budget());

    expect(results.map((r) => [r.action, r.error?.code, r.visibilitySeconds])).toEqual([
      ['retry', 'secret_unreadable', 300],
      ['retry', 'secret_unreadable', 300],
      // Held back, not tried: however often it was received, it is not dead-lettered for another's problem.
      ['retry', 'secret_unreadable', 300],
    ]);
    expect(stub.requests).toEqual([]);
  });

  it('stops taking messages when the invocation runs low on time, leaving them untouched in the queue', async () => {
    const records = [record(job()), record(job())];
    const results = await (await worker({ minJobMs: 5_000 })).processBatch(records, budget(4_000));

    expect(results.map((r) => r.action)).toEqual(['deferred', 'deferred']);
    expect(batchResponse(results).batchItemFailures).toHaveLength(2);
    expect(stub.requests).toEqual([]);
    expect(sqsMock.calls()).toHaveLength(0);
  });

  it('paces every HelpCrunch request, searches, deletes and puts alike, through the token bucket', async () => {
    // The bucket runs on a clock of its own that only its waits move, so the spacing it imposes is
    // exact: a request that skipped the bucket would arrive 0 ms after the one before.
    let clockMs = 0;
    const bucket = new TokenBucket({
      ratePerSecond: 20,
      now: () => clockMs,
      sleep: async (ms) => void (clockMs += ms),
    });
    const arrivals: number[] = [];
    const stopRecording = stub.onRequest(() => arrivals.push(clockMs));
    const paced = await worker({ pipeline: await pipelineWith(pacedClient(bucket)) });
    const tagging = messageOf(
      { rule: 'churn', customer: { by: 'helpcrunchId', value: 1001 }, removeTags: ['Lead'], addTags: ['Churned'] },
      { source: 's' },
    );
    await paced.processBatch(
      [record(job({ by: 'email', value: 'ada@example.com' })), record(job()), record(tagging)],
      budget(),
    );
    stopRecording();

    expect(helpcrunchCalls()).toEqual([
      'POST /v1/customers/search',
      'DELETE /v1/customers/1001/tags',
      'DELETE /v1/customers/1001/tags',
      'DELETE /v1/customers/1001/tags',
      'PUT /v1/customers/1001/tags',
    ]);
    const gaps = arrivals.slice(1).map((at, i) => at - arrivals[i]!);
    expect(gaps.map((gap) => Math.round(gap))).toEqual([50, 50, 50, 50]);
  });
});

describe('a dry run', () => {
  it('searches but sends no DELETE or PUT, and settles the message as done with what would change', async () => {
    const dry = await worker({ pipeline: await pipelineWith(pacedClient(), { dryRun: true }) });
    const message = messageOf(
      {
        rule: 'churn',
        customer: { by: 'email', value: 'ada@example.com' },
        removeTags: ['Lead'],
        addTags: ['Churned'],
      },
      { source: 's' },
    );
    const results = await dry.processBatch([record(message)], budget());

    expect(results[0]).toMatchObject({ action: 'done', requests: { helpcrunch: 1, lookups: 0 } });
    expect(results[0]!.outcomes).toEqual([
      expect.objectContaining({ status: 'would_untag', removed: ['Lead'], added: ['Churned'] }),
    ]);
    expect(helpcrunchCalls()).toEqual(['POST /v1/customers/search']);
  });
});

describe('lookups in the worker', () => {
  let vendors: VendorApis;
  let closedOrigin: string;
  beforeAll(async () => {
    vendors = await startVendorApis();
    const closed = await startVendorApis();
    closedOrigin = closed.url;
    await closed.close();
  });
  afterAll(() => vendors.close());

  /** The stripe lookup at `origin`, one attempt per resolve as the worker runtime builds it. */
  const lookupsAt = (origin: string, key = vendors.keys.stripe): LookupResolver =>
    createLookupResolver({
      lookups: { stripe: { preset: 'stripe-customer', baseUrl: origin, secretId: 'stripe-key', cacheSeconds: 0 } },
      secrets: { get: async () => key },
      retryPolicy: singleAttempt,
    });
  const stripeJob = (id: string) =>
    messageOf(
      {
        rule: 'churn',
        customer: { by: 'lookup', lookup: 'stripe', value: id },
        removeTags: ['Subscriber'],
        addTags: ['Churned'],
      },
      { source: 'stripe' },
    );

  it('resolves the customer through the sender’s API, then changes its tags', async () => {
    const results = await (
      await worker({
        pipeline: await pipelineWith(pacedClient(), { lookups: lookupsAt(vendors.url) }),
      })
    ).processBatch([record(stripeJob('cus_Qh7GraceHopper'))], budget());

    expect(results[0]).toMatchObject({ action: 'done', requests: { helpcrunch: 3, lookups: 1 } });
    expect(results[0]!.outcomes).toEqual([
      expect.objectContaining({
        customerId: 1002,
        status: 'untagged',
        removed: ['Subscriber'],
        added: ['Churned'],
        requests: 4,
      }),
    ]);
    expect(stub.requests[0]!.body).toMatchObject({
      filter: [{ field: 'customers.email', operator: '=', value: 'grace@example.com' }],
    });
  });

  it('settles a lookup that finds no one as done, skipped with lookup_not_found', async () => {
    const results = await (
      await worker({
        pipeline: await pipelineWith(pacedClient(), { lookups: lookupsAt(vendors.url) }),
      })
    ).processBatch([record(stripeJob('cus_Unknown'))], budget());

    expect(results[0]).toMatchObject({ action: 'done' });
    expect(results[0]!.outcomes).toEqual([expect.objectContaining({ status: 'skipped', reason: 'lookup_not_found' })]);
    expect(stub.requests).toEqual([]);
  });

  it('an unreachable API: one request, then the message waits out its backoff in the queue', async () => {
    const message = record(stripeJob('cus_Qh7GraceHopper'), 2);
    const results = await (
      await worker({
        pipeline: await pipelineWith(pacedClient(), { lookups: lookupsAt(closedOrigin) }),
      })
    ).processBatch([message], budget());

    expect(results[0]).toMatchObject({
      action: 'retry',
      visibilitySeconds: 10,
      error: { code: 'lookup_unavailable' },
      requests: { lookups: 1 },
    });
    expect(results[0]!.outcomes).toEqual([
      expect.objectContaining({ status: 'failed', reason: 'lookup_unavailable', requests: 1 }),
    ]);
    expect(batchResponse(results)).toEqual({ batchItemFailures: [{ itemIdentifier: message.messageId }] });
    expect(stub.requests).toEqual([]);
  });

  it('a lookup’s configuration error holds back only that lookup’s jobs in the batch', async () => {
    const refused = await worker({
      pipeline: await pipelineWith(pacedClient(), { lookups: lookupsAt(vendors.url, 'sk_test_revoked') }),
    });
    const before = vendors.requests.length;
    const results = await refused.processBatch(
      [record(stripeJob('cus_Qh7GraceHopper')), record(job()), record(stripeJob('cus_NffrFeUfNV2Hib'))],
      budget(),
    );

    expect(results.map((r) => [r.action, r.error?.code, r.visibilitySeconds])).toEqual([
      ['retry', 'lookup_unauthorized', 300],
      ['done', undefined, undefined],
      ['retry', 'lookup_unauthorized', 300],
    ]);
    // The first job's one request (the secret, read again, had not changed); the third job's none.
    expect(vendors.requests.length - before).toBe(1);
    expect(helpcrunchCalls()).toEqual(['DELETE /v1/customers/1001/tags']);
  });
});
