/**
 * Lambda's SQS event source mapping, locally: polls a queue of the SQS model and invokes the
 * function with batches, as serverless.yml configures the worker's `sqs` event:
 *
 *   - a batch is up to `batchSize` messages; with messages waiting, the poller gathers for up to
 *     `maximumBatchingWindowMs` before it invokes with fewer (standard queues: Lambda takes no
 *     batching window for a FIFO queue)
 *   - at most `maximumConcurrency` batches are in flight at once
 *   - FIFO queues: a batch holds its messages in group order, and SQS hands out nothing more of a
 *     group while one of its messages is in flight, so a group's batches run one after the other;
 *     other groups' batches run beside them
 *   - records are shaped like AWS's SQSEvent records (tests/fixtures/aws-events/sqs.json, and
 *     sqs-fifo.json with a FIFO queue's SequenceNumber, MessageGroupId and MessageDeduplicationId)
 *   - ReportBatchItemFailures: the messages the response lists stay in the queue and come back
 *     after their visibility timeout; the rest are deleted. As Lambda documents, a null or empty
 *     response or list is complete success; a failed invocation, a response that is not an object,
 *     or an itemIdentifier that is empty, missing or not in the batch is complete failure.
 *
 * The queue's own redrive policy dead-letters what keeps failing (see sqs-model.ts).
 */
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { md5Hex, md5OfMessageAttributes, type ModelMessage, type SqsModel } from '../sandbox/sqs-model';

export interface SqsEventSourceOptions {
  model: SqsModel;
  queueUrl: string;
  /** The function: resolves with its response, rejects when the invocation failed. */
  invoke(event: SQSEvent): Promise<unknown>;
  /** Default 10. */
  batchSize?: number;
  /** Default 0: invoke as soon as a message is visible. Standard queues only, as in Lambda. */
  maximumBatchingWindowMs?: number;
  /** Default 2, Lambda's minimum. */
  maximumConcurrency?: number;
}

export interface SqsEventSource {
  /** Invocations so far. */
  readonly invocations: number;
  /** True when no batch is in flight and the queue holds no message, visible or not. */
  idle(): boolean;
  /** Resolves true once idle, or false when `timeoutMs` passes first. */
  whenIdle(timeoutMs: number): Promise<boolean>;
  /** Stops polling. A batch in flight still settles when its invocation ends. */
  stop(): Promise<void>;
}

/** The id SQS reports as SenderId; a real one names the IAM principal that sent the message. */
const LOCAL_SENDER_ID = 'AIDALOCALSANDBOX0000';

/** A message attribute as Lambda delivers it (lower-case keys, both lists present). */
function lambdaAttributes(message: ModelMessage): SQSMessageAttributes {
  return Object.fromEntries(
    Object.entries(message.attributes).map(([name, { DataType, StringValue, BinaryValue }]) => [
      name,
      {
        ...(StringValue !== undefined && { stringValue: StringValue }),
        ...(BinaryValue !== undefined && { binaryValue: Buffer.from(BinaryValue).toString('base64') }),
        stringListValues: [],
        binaryListValues: [],
        dataType: DataType!,
      },
    ]),
  );
}

export function toSqsRecord(message: ModelMessage, queueArn: string, region: string): SQSRecord {
  const attributesMd5 = md5OfMessageAttributes(message.attributes);
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle!,
    body: message.body,
    // In the order of AWS's FIFO sample; a standard queue's records have no FIFO attributes.
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAt),
      ...(message.sequenceNumber !== undefined && { SequenceNumber: message.sequenceNumber }),
      ...(message.groupId !== undefined && { MessageGroupId: message.groupId }),
      SenderId: LOCAL_SENDER_ID,
      ...(message.deduplicationId !== undefined && { MessageDeduplicationId: message.deduplicationId }),
      ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? message.sentAt),
    },
    messageAttributes: lambdaAttributes(message),
    md5OfBody: md5Hex(message.body),
    ...(attributesMd5 && { md5OfMessageAttributes: attributesMd5 }),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** The messages to keep in the queue: all of them unless the response is a valid partial batch response. */
export function failedMessageIds(response: unknown, records: readonly SQSRecord[]): Set<string> {
  const all = new Set(records.map((record) => record.messageId));
  if (response === null || response === undefined) return new Set();
  if (typeof response !== 'object' || Array.isArray(response)) return all;
  const failures = (response as Partial<SQSBatchResponse>).batchItemFailures;
  if (failures === null || failures === undefined) return new Set();
  if (!Array.isArray(failures)) return all;
  const failed = new Set<string>();
  for (const failure of failures as unknown[]) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !all.has(id)) return all;
    failed.add(id);
  }
  return failed;
}

export function startSqsEventSource(options: SqsEventSourceOptions): SqsEventSource {
  const { model, queueUrl, invoke, batchSize = 10, maximumBatchingWindowMs = 0, maximumConcurrency = 2 } = options;
  if (model.isFifo(queueUrl) && maximumBatchingWindowMs > 0)
    throw new Error('Lambda takes no batching window for a FIFO queue: leave maximumBatchingWindow out');
  const queueArn = model.arnOf(queueUrl);
  let stopped = false;
  let inFlight = 0;
  let invocations = 0;
  const idleWaiters = new Set<() => void>();
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  // Since when the messages now waiting have been waiting for a fuller batch.
  let gatheringSince: number | undefined;

  const idle = () => inFlight === 0 && model.msUntilReceivable(queueUrl) === undefined;
  function checkIdle(): void {
    if (!idle()) return;
    for (const resolve of idleWaiters) resolve();
    idleWaiters.clear();
  }

  const unsubscribe = model.onChange(() => {
    wake?.();
    // After the change's caller has finished (a batch settles before it counts as done).
    queueMicrotask(checkIdle);
  });

  /** Resolves on the next change to the queue, or after `ms`. */
  function sleep(ms: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      wake = () => resolve();
      if (ms !== undefined) timer = setTimeout(resolve, Math.max(0, ms));
    }).finally(() => {
      wake = undefined;
      clearTimeout(timer);
    });
  }

  async function runBatch(messages: ModelMessage[]): Promise<void> {
    const records = messages.map((message) => toSqsRecord(message, queueArn, model.region));
    invocations++;
    const response = await invoke({ Records: records }).then(
      (value) => ({ value }),
      () => undefined,
    );
    const failed = response
      ? failedMessageIds(response.value, records)
      : new Set(records.map((record) => record.messageId));
    for (const record of records)
      if (!failed.has(record.messageId)) model.deleteMessage(queueUrl, record.receiptHandle);
  }

  function launch(messages: ModelMessage[]): void {
    inFlight++;
    void runBatch(messages).finally(() => {
      inFlight--;
      wake?.();
      checkIdle();
    });
  }

  async function poll(): Promise<void> {
    while (!stopped) {
      const untilReceivable = model.msUntilReceivable(queueUrl);
      if (inFlight >= maximumConcurrency || untilReceivable === undefined || untilReceivable > 0) {
        gatheringSince = undefined;
        await sleep(inFlight >= maximumConcurrency ? undefined : untilReceivable);
        continue;
      }
      gatheringSince ??= Date.now();
      const gatheredMs = Date.now() - gatheringSince;
      if (model.depth(queueUrl).visible < batchSize && gatheredMs < maximumBatchingWindowMs) {
        await sleep(maximumBatchingWindowMs - gatheredMs);
        continue;
      }
      gatheringSince = undefined;
      const messages = model.receive(queueUrl, batchSize);
      if (messages.length > 0) launch(messages);
    }
  }

  const polling = poll();
  return {
    get invocations() {
      return invocations;
    },
    idle,
    whenIdle(timeoutMs) {
      if (idle()) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const done = () => {
          clearTimeout(timeout);
          resolve(true);
        };
        const timeout = setTimeout(() => {
          idleWaiters.delete(done);
          resolve(false);
        }, timeoutMs);
        idleWaiters.add(done);
      });
    },
    async stop() {
      stopped = true;
      unsubscribe();
      wake?.();
      await polling;
    },
  };
}
