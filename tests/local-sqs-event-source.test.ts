/**
 * The local stand-in for Lambda's SQS event source mapping (local/host/sqs-event-source.ts) over
 * the SQS model: batches and their records, partial batch responses, visibility timeouts, redrive
 * to the dead-letter queue, and the concurrency bound. Time-scaled queues (one SQS second = 10 ms)
 * and polled conditions; nothing asserts on wall-clock durations.
 */
import { readFileSync } from 'node:fs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import {
  failedMessageIds,
  startSqsEventSource,
  type SqsEventSource,
  type SqsEventSourceOptions,
} from '../local/host/sqs-event-source';
import { md5Hex, SqsModel } from '../local/sandbox/sqs-model';

const awsSample = JSON.parse(
  readFileSync(new URL('./fixtures/aws-events/sqs.json', import.meta.url), 'utf8'),
) as SQSEvent;

let source: SqsEventSource | undefined;
afterEach(async () => {
  await source?.stop();
  source = undefined;
});

function queues({ visibilityTimeoutSeconds = 1, maxReceiveCount = 3 } = {}) {
  const model = new SqsModel({ msPerSecond: 10 });
  const deadLetters = model.createQueue('jobs-dlq', { visibilityTimeoutSeconds: 30 });
  const jobs = model.createQueue('jobs', {
    visibilityTimeoutSeconds,
    redrive: { deadLetterQueueUrl: deadLetters, maxReceiveCount },
  });
  return { model, jobs, deadLetters };
}

async function send(model: SqsModel, queueUrl: string, bodies: string[]) {
  for (let i = 0; i < bodies.length; i += 10) {
    await model.sendMessageBatch({
      QueueUrl: queueUrl,
      Entries: bodies.slice(i, i + 10).map((MessageBody, index) => ({ Id: `${index}`, MessageBody })),
    });
  }
}

function start(options: Omit<SqsEventSourceOptions, 'maximumConcurrency'> & { maximumConcurrency?: number }) {
  source = startSqsEventSource({ maximumConcurrency: 1, ...options });
  return source;
}

const poll = { timeout: 10_000 };

describe('the local SQS event source', () => {
  it('invokes with batches of up to batchSize records shaped like AWS’s, and deletes what succeeded', async () => {
    const { model, jobs } = queues();
    await send(
      model,
      jobs,
      Array.from({ length: 25 }, (_, i) => `job ${i}`),
    );
    await model.sendMessage({
      QueueUrl: jobs,
      MessageBody: 'with attribute',
      MessageAttributes: { reason: { DataType: 'String', StringValue: 'x' } },
    });
    const events: SQSEvent[] = [];

    start({ model, queueUrl: jobs, batchSize: 10, invoke: async (event) => void events.push(event) });

    await expect.poll(() => model.msUntilReceivable(jobs), poll).toBeUndefined();
    expect(events.map((event) => event.Records.length)).toEqual([10, 10, 6]);
    const record = events[0]!.Records[0]!;
    // Every key AWS sends, with the same types.
    const sample = awsSample.Records[1]!;
    expect(Object.keys(record).sort()).toEqual(Object.keys(sample).sort());
    expect(Object.keys(record.attributes).sort()).toEqual(Object.keys(sample.attributes).sort());
    expect(record).toMatchObject({
      body: 'job 0',
      md5OfBody: md5Hex('job 0'),
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:jobs',
      awsRegion: 'us-east-1',
    });
    expect(record.attributes.ApproximateReceiveCount).toBe('1');
    const withAttribute = events[2]!.Records.at(-1)!;
    expect(withAttribute.messageAttributes).toEqual({
      reason: { stringValue: 'x', stringListValues: [], binaryListValues: [], dataType: 'String' },
    });
    expect(withAttribute.md5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
  });

  it('keeps the messages a partial batch response lists: they come back after their visibility timeout', async () => {
    const { model, jobs } = queues();
    await send(model, jobs, ['ok', 'fails once', 'ok too']);
    const deliveries: SQSRecord[] = [];

    start({
      model,
      queueUrl: jobs,
      invoke: async ({ Records }) => {
        deliveries.push(...Records);
        const failing = Records.filter(
          (record) => record.body === 'fails once' && record.attributes.ApproximateReceiveCount === '1',
        );
        return { batchItemFailures: failing.map((record) => ({ itemIdentifier: record.messageId })) };
      },
    });

    await expect.poll(() => deliveries.length, poll).toBe(4);
    await expect.poll(() => model.msUntilReceivable(jobs), poll).toBeUndefined();
    expect(deliveries.map((record) => `${record.body} #${record.attributes.ApproximateReceiveCount}`)).toEqual([
      'ok #1',
      'fails once #1',
      'ok too #1',
      'fails once #2',
    ]);
  });

  it('redrives a message that keeps failing to the dead-letter queue after maxReceiveCount receives', async () => {
    const { model, jobs, deadLetters } = queues({ maxReceiveCount: 3 });
    await send(model, jobs, ['poison']);
    let receives = 0;

    start({
      model,
      queueUrl: jobs,
      invoke: async () => {
        receives++;
        throw new Error('function failed');
      },
    });

    await expect.poll(() => model.messages(deadLetters).map((message) => message.body), poll).toEqual(['poison']);
    expect(receives).toBe(3);
    expect(model.messages(jobs)).toEqual([]);
  });

  it('never has more than maximumConcurrency batches in flight, and uses them all', async () => {
    const { model, jobs } = queues({ visibilityTimeoutSeconds: 3600 });
    await send(
      model,
      jobs,
      Array.from({ length: 40 }, (_, i) => `job ${i}`),
    );
    let inFlight = 0;
    let most = 0;
    let held = true;
    const release: (() => void)[] = [];

    start({
      model,
      queueUrl: jobs,
      batchSize: 10,
      maximumConcurrency: 2,
      invoke: async () => {
        most = Math.max(most, ++inFlight);
        if (held) await new Promise<void>((resolve) => release.push(resolve));
        inFlight--;
      },
    });

    // Both slots taken and held: a third batch would have to start now to break the bound.
    await expect.poll(() => release.length, poll).toBe(2);
    held = false;
    for (const resolve of release) resolve();
    await expect.poll(() => model.msUntilReceivable(jobs), poll).toBeUndefined();
    expect(most).toBe(2);
  });

  it('with a batching window, does not wait for a full batch', async () => {
    const { model, jobs } = queues();
    const sizes: number[] = [];
    start({
      model,
      queueUrl: jobs,
      batchSize: 10,
      maximumBatchingWindowMs: 3_600_000,
      invoke: async ({ Records }) => void sizes.push(Records.length),
    });

    await send(
      model,
      jobs,
      Array.from({ length: 10 }, (_, i) => `job ${i}`),
    );

    await expect.poll(() => sizes, poll).toEqual([10]);
  });

  it('stops polling on stop(), leaving the queue as it is', async () => {
    const { model, jobs } = queues();
    let invocations = 0;
    const running = start({ model, queueUrl: jobs, invoke: async () => void invocations++ });
    await running.stop();

    await send(model, jobs, ['after stop']);

    expect(await running.whenIdle(0)).toBe(false);
    expect(invocations).toBe(0);
  });
});

describe('the local SQS event source on a FIFO queue', () => {
  const awsFifoSample = JSON.parse(
    readFileSync(new URL('./fixtures/aws-events/sqs-fifo.json', import.meta.url), 'utf8'),
  ) as SQSEvent;

  function fifoQueues({ visibilityTimeoutSeconds = 1, maxReceiveCount = 100 } = {}) {
    const model = new SqsModel({ msPerSecond: 10 });
    const deadLetters = model.createQueue('jobs-dlq.fifo', { fifo: true, visibilityTimeoutSeconds: 30 });
    const jobs = model.createQueue('jobs.fifo', {
      fifo: true,
      visibilityTimeoutSeconds,
      redrive: { deadLetterQueueUrl: deadLetters, maxReceiveCount },
    });
    return { model, jobs, deadLetters };
  }

  /** Sends `group:n` bodies, in the order given, each in its group. */
  async function sendInGroups(model: SqsModel, queueUrl: string, bodies: string[]) {
    for (const body of bodies)
      await model.sendMessage({
        QueueUrl: queueUrl,
        MessageBody: body,
        MessageGroupId: body.split(':')[0]!,
        MessageDeduplicationId: body,
      });
  }

  it('shapes records like AWS’s FIFO sample, with the group, deduplication id and sequence number', async () => {
    const { model, jobs } = fifoQueues();
    await sendInGroups(model, jobs, ['a:1']);
    const events: SQSEvent[] = [];
    start({ model, queueUrl: jobs, invoke: async (event) => void events.push(event) });

    await expect.poll(() => events.length, poll).toBe(1);
    const [record] = events[0]!.Records;
    const sample = awsFifoSample.Records[0]!;
    expect(Object.keys(record!).sort()).toEqual(Object.keys(sample).sort());
    expect(Object.keys(record!.attributes)).toEqual(Object.keys(sample.attributes));
    expect(record!.attributes).toMatchObject({ MessageGroupId: 'a', MessageDeduplicationId: 'a:1' });
    expect(record!.attributes.SequenceNumber).toMatch(/^\d{20,}$/);
  });

  it('applies each group in order through failures, while the other groups go on', async () => {
    const { model, jobs } = fifoQueues();
    await sendInGroups(model, jobs, ['a:1', 'b:1', 'a:2', 'a:3', 'b:2', 'c:1']);
    const applied: string[] = [];
    let failures = 0;

    start({
      model,
      queueUrl: jobs,
      batchSize: 3,
      maximumConcurrency: 2,
      // As the worker does on FIFO: after a failure, the rest of that group in the batch comes back unapplied.
      invoke: async ({ Records }) => {
        const failedGroups = new Set<string>();
        const batchItemFailures: { itemIdentifier: string }[] = [];
        for (const record of Records) {
          const group = record.attributes.MessageGroupId!;
          const failsNow = record.body === 'a:2' && failures++ < 2;
          if (failedGroups.has(group) || failsNow) {
            failedGroups.add(group);
            batchItemFailures.push({ itemIdentifier: record.messageId });
          } else applied.push(record.body);
        }
        return { batchItemFailures };
      },
    });

    await expect.poll(() => model.msUntilReceivable(jobs), poll).toBeUndefined();
    const inGroup = (group: string) => applied.filter((body) => body.startsWith(`${group}:`));
    expect(inGroup('a')).toEqual(['a:1', 'a:2', 'a:3']);
    expect(inGroup('b')).toEqual(['b:1', 'b:2']);
    expect(failures).toBe(3);
    // a:2 failed twice; b and c did not wait for it.
    expect(applied.indexOf('c:1')).toBeLessThan(applied.indexOf('a:2'));
  });

  it('after an invocation that dies mid-batch, each group comes back whole and in order once the visibility timeout ends', async () => {
    const { model, jobs } = fifoQueues({ visibilityTimeoutSeconds: 1 });
    await sendInGroups(model, jobs, ['a:1', 'a:2', 'b:1']);
    const deliveries: string[][] = [];

    start({
      model,
      queueUrl: jobs,
      invoke: async ({ Records }) => {
        deliveries.push(Records.map((record) => `${record.body} #${record.attributes.ApproximateReceiveCount}`));
        if (deliveries.length === 1) throw new Error('the worker died');
      },
    });

    await expect.poll(() => model.msUntilReceivable(jobs), poll).toBeUndefined();
    expect(deliveries).toEqual([
      ['a:1 #1', 'a:2 #1', 'b:1 #1'],
      ['a:1 #2', 'a:2 #2', 'b:1 #2'],
    ]);
  });

  it('never runs two batches of one group at once, but batches of different groups side by side', async () => {
    const { model, jobs } = fifoQueues({ visibilityTimeoutSeconds: 3600 });
    await sendInGroups(model, jobs, ['a:1', 'a:2', 'a:3', 'b:1', 'b:2', 'a:4', 'b:3']);
    const running = new Set<string>();
    let overlapping = 0;
    let together = 0;

    start({
      model,
      queueUrl: jobs,
      batchSize: 2,
      maximumConcurrency: 4,
      invoke: async ({ Records }) => {
        const groups = new Set(Records.map((record) => record.attributes.MessageGroupId!));
        for (const group of groups) if (running.has(group)) overlapping++;
        for (const group of groups) running.add(group);
        together = Math.max(together, running.size);
        await new Promise((resolve) => setTimeout(resolve, 20));
        for (const group of groups) running.delete(group);
      },
    });

    await expect.poll(() => model.msUntilReceivable(jobs), poll).toBeUndefined();
    expect(overlapping).toBe(0);
    expect(together).toBe(2);
  });

  it('refuses a batching window, as Lambda does for a FIFO queue', () => {
    const { model, jobs } = fifoQueues();
    expect(() =>
      start({ model, queueUrl: jobs, maximumBatchingWindowMs: 5_000, invoke: async () => undefined }),
    ).toThrow(/no batching window for a FIFO queue/);
  });
});

describe('partial batch responses, as Lambda reads them', () => {
  const records = [{ messageId: 'a' }, { messageId: 'b' }] as SQSRecord[];

  it('treats a null or empty response or list as complete success', () => {
    for (const response of [null, undefined, {}, { batchItemFailures: null }, { batchItemFailures: [] }]) {
      expect([...failedMessageIds(response, records)]).toEqual([]);
    }
  });

  it('keeps the listed messages', () => {
    expect([...failedMessageIds({ batchItemFailures: [{ itemIdentifier: 'b' }] }, records)]).toEqual(['b']);
  });

  it('treats anything malformed as complete failure', () => {
    const malformed = [
      'fine',
      [],
      { batchItemFailures: 'b' },
      { batchItemFailures: [{ itemIdentifier: '' }] },
      { batchItemFailures: [{ itemIdentifier: null }] },
      { batchItemFailures: [{ id: 'b' }] },
      { batchItemFailures: [{ itemIdentifier: 'c' }] },
    ];
    for (const response of malformed)
      expect([...failedMessageIds(response, records)].sort(), JSON.stringify(response)).toEqual(['a', 'b']);
  });
});
