/**
 * An in-memory model of the SQS behaviour the queue path relies on, for the zero-loss simulation
 * and the queue benchmark: standard queues with visibility timeouts, receive counts, receipt
 * handles that expire with each receive, a redrive policy (move to the dead-letter queue once
 * receives exceed maxReceiveCount), SendMessageBatch limits — and Lambda's SQS poller with
 * ReportBatchItemFailures on top.
 *
 * Time is scaled: one SQS second lasts `msPerSecond` model milliseconds, so backoffs of minutes
 * pass in a test run while the HelpCrunch side keeps real time.
 */
import { randomUUID } from 'node:crypto';
import type {
  ChangeMessageVisibilityCommandInput,
  MessageAttributeValue,
  SendMessageBatchCommandInput,
  SendMessageCommandInput,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { SqsApi } from '../../lib/queue/sqs-api';

export interface ModelQueueOptions {
  visibilityTimeoutSeconds: number;
  redrive?: { deadLetterQueueUrl: string; maxReceiveCount: number };
}

export interface ModelMessage {
  messageId: string;
  body: string;
  attributes: Record<string, MessageAttributeValue>;
  receiveCount: number;
  /** Model time at which the message may be received again. */
  visibleAt: number;
  /** Set while in flight; only the latest receive's handle is valid. */
  receiptHandle?: string;
  sentAt: number;
}

interface ModelQueue {
  name: string;
  options: ModelQueueOptions;
  messages: Map<string, ModelMessage>;
}

const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;
const MAX_VISIBILITY_SECONDS = 43_200;

/** An error shaped like the SDK's: `name` is the SQS error code, `$fault` who is to blame. */
function sqsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client' });
}

export class SqsModel implements SqsApi {
  private readonly queues = new Map<string, ModelQueue>();
  private readonly now: () => number;
  readonly msPerSecond: number;

  constructor({ now = () => Date.now(), msPerSecond = 1000 }: { now?: () => number; msPerSecond?: number } = {}) {
    this.now = now;
    this.msPerSecond = msPerSecond;
  }

  createQueue(name: string, options: ModelQueueOptions): string {
    const url = `https://sqs.us-east-1.amazonaws.com/000000000000/${name}`;
    this.queues.set(url, { name, options, messages: new Map() });
    return url;
  }

  arnOf(queueUrl: string): string {
    return `arn:aws:sqs:us-east-1:000000000000:${this.queue(queueUrl).name}`;
  }

  async sendMessageBatch({ QueueUrl, Entries = [] }: SendMessageBatchCommandInput) {
    const queue = this.queue(QueueUrl);
    if (Entries.length === 0) throw sqsError('EmptyBatchRequest', 'The batch request does not contain any entries');
    if (Entries.length > MAX_BATCH_ENTRIES) throw sqsError('TooManyEntriesInBatchRequest', `${Entries.length} entries`);
    if (new Set(Entries.map((entry) => entry.Id)).size !== Entries.length) throw sqsError('BatchEntryIdsNotDistinct', 'Ids repeat');
    const bytes = Entries.reduce((sum, entry) => sum + Buffer.byteLength(entry.MessageBody ?? ''), 0);
    if (bytes > MAX_BATCH_BYTES) throw sqsError('BatchRequestTooLong', `${bytes} bytes`);
    const Successful = Entries.map((entry) => ({ Id: entry.Id, MessageId: this.add(queue, entry.MessageBody!, entry.MessageAttributes), MD5OfMessageBody: '' }));
    return { Successful, Failed: [] };
  }

  async sendMessage({ QueueUrl, MessageBody, MessageAttributes }: SendMessageCommandInput) {
    for (const [name, value] of Object.entries(MessageAttributes ?? {})) {
      if (!value.StringValue) throw sqsError('InvalidParameterValue', `Message attribute '${name}' must have a value`);
    }
    return { MessageId: this.add(this.queue(QueueUrl), MessageBody!, MessageAttributes) };
  }

  async changeMessageVisibility({ QueueUrl, ReceiptHandle, VisibilityTimeout }: ChangeMessageVisibilityCommandInput) {
    const seconds = VisibilityTimeout ?? -1;
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_VISIBILITY_SECONDS) {
      throw sqsError('InvalidParameterValue', `VisibilityTimeout ${VisibilityTimeout}`);
    }
    const message = [...this.queue(QueueUrl).messages.values()].find((m) => m.receiptHandle === ReceiptHandle);
    if (!message) throw sqsError('ReceiptHandleIsInvalid', 'The receipt handle is not current');
    if (message.visibleAt <= this.now()) throw sqsError('MessageNotInflight', 'The message is not in flight');
    message.visibleAt = this.now() + seconds * this.msPerSecond;
    return {};
  }

  /** ReceiveMessage: up to `max` visible messages, oldest first; SQS's redrive happens here. */
  receive(queueUrl: string, max: number): ModelMessage[] {
    const queue = this.queue(queueUrl);
    const now = this.now();
    const received: ModelMessage[] = [];
    for (const message of queue.messages.values()) {
      if (received.length === max) break;
      if (message.visibleAt > now) continue;
      const { redrive } = queue.options;
      if (redrive && message.receiveCount >= redrive.maxReceiveCount) {
        // Moved as it is, attributes and all, without a reason of ours.
        queue.messages.delete(message.messageId);
        this.queue(redrive.deadLetterQueueUrl).messages.set(message.messageId, { ...message, receiptHandle: undefined, visibleAt: now });
        continue;
      }
      message.receiveCount += 1;
      message.receiptHandle = randomUUID();
      message.visibleAt = now + queue.options.visibilityTimeoutSeconds * this.msPerSecond;
      received.push({ ...message, attributes: { ...message.attributes } });
    }
    return received;
  }

  deleteMessage(queueUrl: string, receiptHandle: string): void {
    const queue = this.queue(queueUrl);
    const message = [...queue.messages.values()].find((m) => m.receiptHandle === receiptHandle);
    if (message) queue.messages.delete(message.messageId);
  }

  /** A snapshot of every message in the queue, visible or in flight. */
  messages(queueUrl: string): ModelMessage[] {
    return [...this.queue(queueUrl).messages.values()].map((message) => ({ ...message }));
  }

  /** Model ms until the next message becomes visible: 0 if one is, undefined when the queue is empty. */
  msUntilVisible(queueUrl: string): number | undefined {
    const now = this.now();
    let soonest: number | undefined;
    for (const { visibleAt } of this.queue(queueUrl).messages.values()) soonest = Math.min(soonest ?? Infinity, Math.max(0, visibleAt - now));
    return soonest;
  }

  private add(queue: ModelQueue, body: string, attributes: Record<string, MessageAttributeValue> = {}): string {
    const messageId = randomUUID();
    const now = this.now();
    queue.messages.set(messageId, { messageId, body, attributes: { ...attributes }, receiveCount: 0, visibleAt: now, sentAt: now });
    return messageId;
  }

  private queue(url: string | undefined): ModelQueue {
    const queue = url === undefined ? undefined : this.queues.get(url);
    if (!queue) throw sqsError('QueueDoesNotExist', `No queue at ${url}`);
    return queue;
  }
}

export type BatchHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

export interface PollerOptions {
  model: SqsModel;
  queueUrl: string;
  handler: BatchHandler;
  /** Default 10, as serverless.yml configures the event source. */
  batchSize?: number;
  /** Give up (leaving messages in the queue) after this many ms; default 60 s. */
  timeoutMs?: number;
}

function toRecord(model: SqsModel, queueUrl: string, message: ModelMessage): SQSRecord {
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle!,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAt),
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: String(message.sentAt),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: model.arnOf(queueUrl),
    awsRegion: 'us-east-1',
  };
}

/**
 * Lambda's SQS poller at concurrency 1: receive a batch, invoke, delete what the response does
 * not list as failed. A thrown error or a response naming a message not in the batch fails the
 * whole batch, as Lambda does. Returns when the queue is empty or the timeout passes.
 */
export async function drainQueue({ model, queueUrl, handler, batchSize = 10, timeoutMs = 60_000 }: PollerOptions): Promise<{ invocations: number }> {
  const deadline = Date.now() + timeoutMs;
  let invocations = 0;
  while (Date.now() < deadline) {
    const wait = model.msUntilVisible(queueUrl);
    if (wait === undefined) break;
    if (wait > 0) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait, deadline - Date.now())));
      continue;
    }
    const messages = model.receive(queueUrl, batchSize);
    if (messages.length === 0) continue;
    invocations++;
    const records = messages.map((message) => toRecord(model, queueUrl, message));
    const response = await handler({ Records: records }).catch(() => undefined);
    const failed = new Set(response?.batchItemFailures.map((failure) => failure.itemIdentifier));
    const valid = response !== undefined && [...failed].every((id) => records.some((record) => record.messageId === id));
    if (!valid) continue;
    for (const record of records) if (!failed.has(record.messageId)) model.deleteMessage(queueUrl, record.receiptHandle);
  }
  return { invocations };
}
