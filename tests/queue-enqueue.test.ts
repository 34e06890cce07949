/** enqueueUnits / queueDispatch over the real SQS adapter, the SDK client mocked (tests/queue-fifo.test.ts: over the local SQS). */
import {
  QueueDoesNotExist,
  RequestThrottled,
  SendMessageBatchCommand,
  SQSClient,
  type SendMessageBatchCommandInput,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { BadEventError, ConfigError, RetryableError } from '../lib/errors';
import { queueDispatch } from '../lib/dispatch/queue';
import { enqueueUnits, MAX_BATCH_BYTES } from '../lib/queue/enqueue';
import { messageGroupId, unitDeduplicationId } from '../lib/queue/fifo-ids';
import { parseJobMessage } from '../lib/queue/job-message';
import { sqsApi } from '../lib/queue/sqs-api';
import { RetryBudget } from '../lib/http/retry';
import type { Job } from '../lib/types';
import { unitsFor } from './support/pipeline';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/helpcrunch-untag-test-jobs';
const sqsMock = mockClient(SQSClient);
const sqs = sqsApi(
  new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
);
const event = { source: 'crm', id: 'evt-7', occurredAt: Date.UTC(2026, 10, 1) };

afterAll(() => sqsMock.restore());
beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(SendMessageBatchCommand).callsFake(async (input: SendMessageBatchCommandInput) => ({
    Successful: input.Entries!.map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}`, MD5OfMessageBody: '' })),
    Failed: [],
  }));
});

const jobs = (count: number, email = (i: number) => `c${i}@example.com`): Job[] =>
  Array.from({ length: count }, (_, i) => ({
    rule: 'deal-lost',
    customer: { by: 'email', value: email(i) },
    removeTags: ['Lead'],
    addTags: [],
  }));
const enqueue = (list: Job[]) =>
  enqueueUnits(unitsFor(list, event), { sqs, queueUrl: QUEUE_URL, budget: RetryBudget.until(Date.now() + 10_000) });
const batches = () => sqsMock.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.Entries!);

describe('enqueueUnits', () => {
  it('sends one versioned message per unit (here one job each), at most 10 per SendMessageBatch', async () => {
    await expect(enqueue(jobs(23))).resolves.toBe(23);

    expect(batches().map((entries) => entries.length)).toEqual([10, 10, 3]);
    for (const entries of batches()) expect(new Set(entries.map((e) => e.Id)).size).toBe(entries.length);
    const bodies = batches()
      .flat()
      .map((entry) => JSON.parse(entry.MessageBody!));
    expect(bodies[0]).toEqual({
      v: 3,
      event,
      customer: { by: 'email', value: 'c0@example.com' },
      jobs: [{ rule: 'deal-lost', removeTags: ['Lead'], addTags: [] }],
      attempt: 0,
    });
    expect(bodies.map((body) => body.customer.value)).toEqual(jobs(23).map((job) => job.customer.value));
    expect(sqsMock.commandCalls(SendMessageBatchCommand)[0]!.args[0].input.QueueUrl).toBe(QUEUE_URL);
    // The FIFO queue's ids: the customer's group, and a deduplication id per unit of the event.
    expect(batches()[1]![2]).toMatchObject({
      MessageGroupId: messageGroupId(jobs(23)[12]!.customer),
      MessageDeduplicationId: unitDeduplicationId({ event, customer: jobs(23)[12]!.customer }),
    });
    expect(new Set(batches().flatMap((entries) => entries.map((e) => e.MessageDeduplicationId))).size).toBe(23);
  });

  it('the bodies read back as the same units', async () => {
    await enqueue(jobs(2));
    const message = parseJobMessage(batches()[0]![1]!.MessageBody!, 0);
    expect(message).toEqual({
      v: 3,
      event,
      customer: jobs(2)[1]!.customer,
      jobs: [{ rule: 'deal-lost', removeTags: ['Lead'], addTags: [] }],
      attempt: 0,
    });
  });

  it("puts an event's jobs for one customer in one message, and the oldest event's units first", async () => {
    const ada = { by: 'email', value: 'ada@example.com' } as const;
    const older = unitsFor([{ rule: 'old', customer: ada, removeTags: ['A'], addTags: [] }], {
      id: 'old',
      occurredAt: 1,
    });
    const newer = unitsFor(
      [
        { rule: 'one', customer: ada, removeTags: ['A'], addTags: [] },
        { rule: 'two', customer: ada, removeTags: [], addTags: ['B'] },
      ],
      { id: 'new', occurredAt: 2 },
    );
    await enqueueUnits([...newer, ...older], {
      sqs,
      queueUrl: QUEUE_URL,
      budget: RetryBudget.until(Date.now() + 10_000),
    });
    const bodies = batches()[0]!.map((entry) => JSON.parse(entry.MessageBody!));
    expect(bodies.map((body) => [body.event.id, body.jobs.map((job: { rule: string }) => job.rule)])).toEqual([
      ['old', ['old']],
      ['new', ['one', 'two']],
    ]);
  });

  it('starts a new batch before the bodies would pass 256 KiB', async () => {
    const big = (i: number) => `${'x'.repeat(100 * 1024)}${i}@example.com`;
    await expect(enqueue(jobs(5, big))).resolves.toBe(5);

    expect(batches().map((entries) => entries.length)).toEqual([2, 2, 1]);
    for (const entries of batches()) {
      expect(entries.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody!), 0)).toBeLessThanOrEqual(
        MAX_BATCH_BYTES,
      );
    }
  });

  it('refuses a job too large for a message as a bad event, before sending anything', async () => {
    const list = [...jobs(1), ...jobs(1, () => 'y'.repeat(300 * 1024))];
    const failure = await enqueue(list).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(BadEventError);
    expect(failure).toMatchObject({ code: 'job_too_large' });
    expect(batches()).toEqual([]);
  });

  it('re-sends only the entries SQS failed on its side', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [],
        Failed: [
          { Id: '3', SenderFault: false, Code: 'InternalError' },
          { Id: '7', SenderFault: false, Code: 'InternalError' },
        ],
      })
      .resolves({ Successful: [], Failed: [] });
    await expect(enqueue(jobs(10))).resolves.toBe(10);

    expect(batches().map((entries) => entries.map((e) => e.Id))).toEqual([
      ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      ['3', '7'],
    ]);
  });

  it('gives up after 3 attempts with a retryable error, never a silent drop', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolves({ Successful: [], Failed: [{ Id: '1', SenderFault: false, Code: 'ServiceUnavailable' }] });
    const failure = await enqueue(jobs(2)).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(RetryableError);
    expect(failure).toMatchObject({
      code: 'queue_unavailable',
      message: expect.stringContaining('SQS failed 1 of 2 job messages (ServiceUnavailable)'),
    });
    expect(batches()).toHaveLength(3);
  });

  it('an entry SQS refuses as the sender’s fault is a configuration error, not retried', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolves({ Successful: [], Failed: [{ Id: '0', SenderFault: true, Code: 'InvalidMessageContents' }] });
    await expect(enqueue(jobs(1))).rejects.toMatchObject({ name: 'ConfigError', code: 'queue_misconfigured' });
    expect(batches()).toHaveLength(1);
  });

  it.each([
    [
      'a missing queue',
      new QueueDoesNotExist({ message: 'The specified queue does not exist.', $metadata: {} }),
      ConfigError,
      'queue_misconfigured',
    ],
    [
      'throttling',
      new RequestThrottled({ message: 'Rate exceeded', $metadata: {} }),
      RetryableError,
      'queue_unavailable',
    ],
    [
      'a network failure',
      Object.assign(new Error('connect ECONNREFUSED'), { name: 'TimeoutError' }),
      RetryableError,
      'queue_unavailable',
    ],
  ])('maps %s to a typed error without the SDK message', async (_, thrown, type, code) => {
    sqsMock.on(SendMessageBatchCommand).rejects(thrown);
    const failure = await enqueue(jobs(1)).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(type);
    expect(failure).toMatchObject({ code });
    expect((failure as Error).message).not.toContain(thrown.message);
  });
});

describe('queueDispatch', () => {
  it('answers with the number of messages (units) queued', async () => {
    const dispatch = queueDispatch({ sqs, queueUrl: QUEUE_URL });
    await expect(dispatch(unitsFor(jobs(3), event), RetryBudget.until(Date.now() + 5_000))).resolves.toEqual({
      dispatch: 'queue',
      queued: 3,
    });
    await expect(dispatch([], RetryBudget.until(Date.now() + 5_000))).resolves.toEqual({
      dispatch: 'queue',
      queued: 0,
    });
    expect(batches()).toHaveLength(1);
  });
});
