/**
 * An in-memory model of the SQS standard-queue behaviour the queue path relies on, behind the local
 * SQS endpoint (sqs-endpoint.ts) and, in process, the zero-loss simulation and the queue benchmark:
 * visibility timeouts, receive counts, receipt handles that only the latest receive holds, delays,
 * a redrive policy (a message received more than maxReceiveCount times moves to the dead-letter
 * queue, keeping its attributes), message move tasks back out of it, and the limits and errors of
 * the API reference (docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference). Inputs and
 * outputs are the SDK's shapes, so the endpoint only translates the wire.
 *
 * Time can be scaled: one SQS second lasts `msPerSecond` model milliseconds, so backoffs of minutes
 * pass in a test run while the HelpCrunch side keeps real time.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type {
  ChangeMessageVisibilityBatchRequest,
  ChangeMessageVisibilityBatchResult,
  ChangeMessageVisibilityCommandInput,
  ListMessageMoveTasksResultEntry,
  MessageAttributeValue,
  SendMessageBatchCommandInput,
  SendMessageBatchResult,
  SendMessageCommandInput,
  SendMessageResult,
} from '@aws-sdk/client-sqs';
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
  /** Model time at which the message may be received (again). */
  visibleAt: number;
  /** Set by a receive; only the latest receive's handle is valid. */
  receiptHandle?: string;
  sentAt: number;
  firstReceivedAt?: number;
  /** The queue SQS moved it from, once dead-lettered by the redrive policy. */
  deadLetterSourceArn?: string;
}

/** A queue's depth, as GetQueueAttributes' Approximate* attributes report it. */
export interface QueueDepth {
  /** ApproximateNumberOfMessages: ready to be received. */
  visible: number;
  /** ApproximateNumberOfMessagesNotVisible: received, not deleted, visibility timeout running. */
  inFlight: number;
  /** ApproximateNumberOfMessagesDelayed: sent with a delay not yet over. */
  delayed: number;
}

/** An error shaped like the SDK's: `name` is the SQS error code, `$fault` who is to blame. */
export class SqsModelError extends Error {
  readonly $fault: 'client' | 'server';
  constructor(name: string, message: string, fault: 'client' | 'server' = 'client') {
    super(message);
    this.name = name;
    this.$fault = fault;
  }
}

interface ModelQueue {
  name: string;
  url: string;
  arn: string;
  options: ModelQueueOptions;
  messages: Map<string, ModelMessage>;
}

interface MoveTask extends ListMessageMoveTasksResultEntry {
  SourceArn: string;
}

const MAX_BATCH_ENTRIES = 10;
/** SendMessageBatch: all bodies together (the API reference's 1 MiB). */
const MAX_BATCH_BYTES = 1024 * 1024;
/** The queues' MaximumMessageSize (serverless.yml sets none: SQS's 256 KiB default). */
const MAX_MESSAGE_BYTES = 256 * 1024;
const MAX_VISIBILITY_SECONDS = 43_200;
const MAX_DELAY_SECONDS = 900;
const MAX_ATTRIBUTES = 10;
// The characters a message may contain (SendMessage): #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
const INVALID_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export const md5Hex = (data: string | Buffer) => createHash('md5').update(data).digest('hex');

/**
 * MD5OfMessageAttributes as SQS computes it: for each attribute, by name, the name, data type
 * (each as a 4-byte big-endian length and UTF-8 bytes), a transport byte (1 String/Number,
 * 2 Binary) and the value, length-prefixed too. Undefined when there are none.
 */
export function md5OfMessageAttributes(attributes: Record<string, MessageAttributeValue>): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const prefixed = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return [length, bytes];
  };
  const parts = names.flatMap((name) => {
    const { DataType = '', StringValue, BinaryValue } = attributes[name]!;
    const binary = DataType.startsWith('Binary');
    const value = binary ? Buffer.from(BinaryValue ?? new Uint8Array()) : Buffer.from(StringValue ?? '', 'utf8');
    return [
      ...prefixed(Buffer.from(name, 'utf8')),
      ...prefixed(Buffer.from(DataType, 'utf8')),
      Buffer.from([binary ? 2 : 1]),
      ...prefixed(value),
    ];
  });
  return md5Hex(Buffer.concat(parts));
}

function invalid(message: string): SqsModelError {
  return new SqsModelError('InvalidParameterValue', message);
}

/** The attributes as SQS keeps them, or throws InvalidParameterValue. */
function checkAttributes(
  attributes: Record<string, MessageAttributeValue> = {},
): Record<string, MessageAttributeValue> {
  const entries = Object.entries(attributes);
  if (entries.length > MAX_ATTRIBUTES)
    throw invalid(`Number of message attributes [${entries.length}] exceeds the allowed maximum [${MAX_ATTRIBUTES}].`);
  for (const [name, { DataType, StringValue, BinaryValue }] of entries) {
    if (!/^[A-Za-z0-9_.-]{1,256}$/.test(name) || /^(aws|amazon)\./i.test(name) || /^\.|\.$|\.\./.test(name)) {
      throw invalid(`Message (user) attribute name '${name}' is invalid.`);
    }
    if (!DataType || !/^(String|Number|Binary)(\..+)?$/.test(DataType))
      throw invalid(`The type of message (user) attribute '${name}' is invalid.`);
    const empty = DataType.startsWith('Binary') ? !BinaryValue || BinaryValue.length === 0 : !StringValue;
    if (empty)
      throw invalid(`Message (user) attribute '${name}' must contain a non-empty value of type '${DataType}'.`);
  }
  return structuredClone(attributes);
}

function checkBody(body: string | undefined): string {
  if (body === undefined || body === '')
    throw new SqsModelError('MissingParameter', 'The request must contain the parameter MessageBody.');
  if (INVALID_CHARACTER.test(body))
    throw new SqsModelError(
      'InvalidMessageContents',
      'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
    );
  if (Buffer.byteLength(body) > MAX_MESSAGE_BYTES)
    throw invalid(
      `One or more parameters are invalid. Reason: Message must be shorter than ${MAX_MESSAGE_BYTES} bytes.`,
    );
  return body;
}

function checkSeconds(value: number | undefined, max: number, name: string): number {
  const seconds = value ?? 0;
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > max) {
    throw invalid(`Value ${value} for parameter ${name} is invalid. Reason: Must be between 0 and ${max}.`);
  }
  return seconds;
}

/** Checks what every batch action checks: some entries, at most 10, ids of the allowed form, distinct. */
function checkBatch(entries: readonly { Id?: string }[] | undefined): void {
  if (!entries || entries.length === 0)
    throw new SqsModelError(
      'EmptyBatchRequest',
      'There should be at least one SendMessageBatchRequestEntry in the request.',
    );
  if (entries.length > MAX_BATCH_ENTRIES) {
    throw new SqsModelError(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are ${MAX_BATCH_ENTRIES}. You have sent ${entries.length}.`,
    );
  }
  for (const { Id } of entries) {
    if (!Id || !/^[A-Za-z0-9_-]{1,80}$/.test(Id))
      throw new SqsModelError(
        'InvalidBatchEntryId',
        'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
      );
  }
  const ids = entries.map(({ Id }) => Id);
  if (new Set(ids).size !== ids.length)
    throw new SqsModelError('BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id.');
}

export interface SqsModelOptions {
  now?: () => number;
  msPerSecond?: number;
  /** Queue URLs are <baseUrl>/<accountId>/<name>; the local endpoint passes its own address. */
  baseUrl?: string;
  region?: string;
  accountId?: string;
}

export class SqsModel implements SqsApi {
  private readonly queues = new Map<string, ModelQueue>();
  private readonly moveTasks: MoveTask[] = [];
  private readonly listeners = new Set<() => void>();
  private failingEntries = 0;
  private readonly now: () => number;
  readonly msPerSecond: number;
  readonly region: string;
  private readonly baseUrl: string;
  private readonly accountId: string;

  constructor({
    now = () => Date.now(),
    msPerSecond = 1000,
    baseUrl,
    region = 'us-east-1',
    accountId = '000000000000',
  }: SqsModelOptions = {}) {
    this.now = now;
    this.msPerSecond = msPerSecond;
    this.region = region;
    this.accountId = accountId;
    this.baseUrl = baseUrl ?? `https://sqs.${region}.amazonaws.com`;
  }

  createQueue(name: string, options: ModelQueueOptions): string {
    const url = `${this.baseUrl}/${this.accountId}/${name}`;
    const arn = `arn:aws:sqs:${this.region}:${this.accountId}:${name}`;
    this.queues.set(url, { name, url, arn, options, messages: new Map() });
    return url;
  }

  /** GetQueueUrl. */
  queueUrl(name: string): string {
    const queue = [...this.queues.values()].find((candidate) => candidate.name === name);
    if (!queue) throw this.noQueue();
    return queue.url;
  }

  arnOf(queueUrl: string): string {
    return this.queue(queueUrl).arn;
  }

  redrivePolicy(queueUrl: string): ModelQueueOptions['redrive'] {
    return this.queue(queueUrl).options.redrive;
  }

  visibilityTimeoutSeconds(queueUrl: string): number {
    return this.queue(queueUrl).options.visibilityTimeoutSeconds;
  }

  /** Calls `listener` after anything that changes what a queue holds; returns an unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The next `count` batch entries fail on SQS's side (SenderFault false), as SendMessageBatch may report. */
  failNextEntries(count: number): void {
    this.failingEntries = count;
  }

  async sendMessageBatch({ QueueUrl, Entries }: SendMessageBatchCommandInput): Promise<SendMessageBatchResult> {
    const queue = this.queue(QueueUrl);
    checkBatch(Entries);
    const bytes = Entries!.reduce((sum, entry) => sum + Buffer.byteLength(entry.MessageBody ?? ''), 0);
    if (bytes > MAX_BATCH_BYTES) {
      throw new SqsModelError(
        'BatchRequestTooLong',
        `Batch requests cannot be longer than ${MAX_BATCH_BYTES} bytes. You have sent ${bytes} bytes.`,
      );
    }
    const Successful: NonNullable<SendMessageBatchResult['Successful']> = [];
    const Failed: NonNullable<SendMessageBatchResult['Failed']> = [];
    for (const entry of Entries!) {
      if (this.failingEntries > 0) {
        this.failingEntries--;
        Failed.push({
          Id: entry.Id,
          SenderFault: false,
          Code: 'InternalError',
          Message: 'We encountered an internal error. Please try again.',
        });
        continue;
      }
      try {
        const sent = this.add(queue, entry.MessageBody, entry.MessageAttributes, entry.DelaySeconds);
        Successful.push({ Id: entry.Id, ...sent });
      } catch (error) {
        const { name, message } = error as SqsModelError;
        Failed.push({ Id: entry.Id, SenderFault: true, Code: name, Message: message });
      }
    }
    this.changed();
    return { Successful, Failed };
  }

  async sendMessage({
    QueueUrl,
    MessageBody,
    MessageAttributes,
    DelaySeconds,
  }: SendMessageCommandInput): Promise<SendMessageResult> {
    const sent = this.add(this.queue(QueueUrl), MessageBody, MessageAttributes, DelaySeconds);
    this.changed();
    return sent;
  }

  async changeMessageVisibility({
    QueueUrl,
    ReceiptHandle,
    VisibilityTimeout,
  }: ChangeMessageVisibilityCommandInput): Promise<Record<string, never>> {
    this.setVisibility(this.queue(QueueUrl), ReceiptHandle, VisibilityTimeout);
    this.changed();
    return {};
  }

  changeMessageVisibilityBatch({
    QueueUrl,
    Entries,
  }: ChangeMessageVisibilityBatchRequest): ChangeMessageVisibilityBatchResult {
    const queue = this.queue(QueueUrl);
    checkBatch(Entries);
    const Successful: NonNullable<ChangeMessageVisibilityBatchResult['Successful']> = [];
    const Failed: NonNullable<ChangeMessageVisibilityBatchResult['Failed']> = [];
    for (const { Id, ReceiptHandle, VisibilityTimeout } of Entries!) {
      try {
        this.setVisibility(queue, ReceiptHandle, VisibilityTimeout);
        Successful.push({ Id });
      } catch (error) {
        const { name, message } = error as SqsModelError;
        Failed.push({ Id, SenderFault: true, Code: name, Message: message });
      }
    }
    this.changed();
    return { Successful, Failed };
  }

  /** ReceiveMessage: up to `max` visible messages, oldest first; SQS's redrive happens here. */
  receive(queueUrl: string, max: number, visibilityTimeoutSeconds?: number): ModelMessage[] {
    const queue = this.queue(queueUrl);
    const hidden = checkSeconds(
      visibilityTimeoutSeconds ?? queue.options.visibilityTimeoutSeconds,
      MAX_VISIBILITY_SECONDS,
      'VisibilityTimeout',
    );
    if (!Number.isInteger(max) || max < 1 || max > MAX_BATCH_ENTRIES) {
      throw invalid(
        `Value ${max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and ${MAX_BATCH_ENTRIES}, if provided.`,
      );
    }
    const now = this.now();
    const received: ModelMessage[] = [];
    for (const message of queue.messages.values()) {
      if (received.length === max) break;
      if (message.visibleAt > now) continue;
      const { redrive } = queue.options;
      if (redrive && message.receiveCount >= redrive.maxReceiveCount) {
        // Moved as it is, attributes and all, without a reason of ours.
        queue.messages.delete(message.messageId);
        const moved = { ...message, receiptHandle: undefined, visibleAt: now, deadLetterSourceArn: queue.arn };
        this.queue(redrive.deadLetterQueueUrl).messages.set(message.messageId, moved);
        continue;
      }
      message.receiveCount += 1;
      message.firstReceivedAt ??= now;
      message.receiptHandle = randomBytes(48).toString('base64');
      message.visibleAt = now + hidden * this.msPerSecond;
      received.push(structuredClone(message));
    }
    if (received.length > 0) this.changed();
    return received;
  }

  /** DeleteMessage: the current handle deletes; a stale handle of a message already gone is a no-op, as in SQS. */
  deleteMessage(queueUrl: string, receiptHandle: string): void {
    const queue = this.queue(queueUrl);
    const message = [...queue.messages.values()].find((m) => m.receiptHandle === receiptHandle);
    if (message) {
      queue.messages.delete(message.messageId);
      this.changed();
    }
  }

  depth(queueUrl: string): QueueDepth {
    const now = this.now();
    const depth: QueueDepth = { visible: 0, inFlight: 0, delayed: 0 };
    for (const { visibleAt, receiveCount } of this.queue(queueUrl).messages.values()) {
      if (visibleAt <= now) depth.visible++;
      else if (receiveCount > 0) depth.inFlight++;
      else depth.delayed++;
    }
    return depth;
  }

  /** The queues by name, with their depth. */
  queueDepths(): { name: string; url: string; depth: QueueDepth }[] {
    return [...this.queues.values()].map(({ name, url }) => ({ name, url, depth: this.depth(url) }));
  }

  /**
   * StartMessageMoveTask from a dead-letter queue: to DestinationArn, or back to each message's
   * source queue. Local moves finish at once; ListMessageMoveTasks then reports the task COMPLETED.
   */
  startMessageMoveTask(sourceArn: string, destinationArn?: string): string {
    const source = this.queueByArn(sourceArn);
    const isDeadLetterQueue = [...this.queues.values()].some(
      (queue) => queue.options.redrive?.deadLetterQueueUrl === source.url,
    );
    if (!isDeadLetterQueue) throw invalid('Source queue must be configured as a Dead Letter Queue.');
    if (this.moveTasks.some((task) => task.SourceArn === sourceArn && task.Status === 'RUNNING')) {
      throw new SqsModelError(
        'UnsupportedOperation',
        'There is already a task running. Only one active task is allowed for a source queue arn at a given time.',
      );
    }
    const destination = destinationArn === undefined ? undefined : this.queueByArn(destinationArn);
    const now = this.now();
    let moved = 0;
    for (const message of [...source.messages.values()]) {
      const target =
        destination ?? (message.deadLetterSourceArn ? this.queueByArn(message.deadLetterSourceArn) : undefined);
      if (!target) continue;
      source.messages.delete(message.messageId);
      target.messages.set(message.messageId, {
        ...message,
        receiveCount: 0,
        receiptHandle: undefined,
        visibleAt: now,
        deadLetterSourceArn: undefined,
      });
      moved++;
    }
    const taskHandle = Buffer.from(JSON.stringify({ taskId: randomUUID(), sourceArn })).toString('base64');
    this.moveTasks.unshift({
      SourceArn: sourceArn,
      ...(destinationArn && { DestinationArn: destinationArn }),
      Status: 'COMPLETED',
      ApproximateNumberOfMessagesMoved: moved,
      ApproximateNumberOfMessagesToMove: moved,
      StartedTimestamp: now,
    });
    this.changed();
    return taskHandle;
  }

  /** ListMessageMoveTasks: the most recent tasks of a source queue first. */
  listMessageMoveTasks(sourceArn: string, maxResults = 1): ListMessageMoveTasksResultEntry[] {
    this.queueByArn(sourceArn);
    return this.moveTasks
      .filter((task) => task.SourceArn === sourceArn)
      .slice(0, maxResults)
      .map((task) => ({ ...task }));
  }

  /** A snapshot of every message in the queue, visible or in flight. */
  messages(queueUrl: string): ModelMessage[] {
    return [...this.queue(queueUrl).messages.values()].map((message) => structuredClone(message));
  }

  /** Model ms until the next message becomes visible: 0 if one is, undefined when the queue is empty. */
  msUntilVisible(queueUrl: string): number | undefined {
    const now = this.now();
    let soonest: number | undefined;
    for (const { visibleAt } of this.queue(queueUrl).messages.values())
      soonest = Math.min(soonest ?? Infinity, Math.max(0, visibleAt - now));
    return soonest;
  }

  private add(
    queue: ModelQueue,
    body: string | undefined,
    attributes: Record<string, MessageAttributeValue> | undefined,
    delaySeconds: number | undefined,
  ) {
    const MessageBody = checkBody(body);
    const kept = checkAttributes(attributes);
    const delay = checkSeconds(delaySeconds, MAX_DELAY_SECONDS, 'DelaySeconds');
    const messageId = randomUUID();
    const now = this.now();
    queue.messages.set(messageId, {
      messageId,
      body: MessageBody,
      attributes: kept,
      receiveCount: 0,
      visibleAt: now + delay * this.msPerSecond,
      sentAt: now,
    });
    const attributesMd5 = md5OfMessageAttributes(kept);
    return {
      MessageId: messageId,
      MD5OfMessageBody: md5Hex(MessageBody),
      ...(attributesMd5 && { MD5OfMessageAttributes: attributesMd5 }),
    };
  }

  private setVisibility(
    queue: ModelQueue,
    receiptHandle: string | undefined,
    visibilityTimeout: number | undefined,
  ): void {
    const seconds = checkSeconds(visibilityTimeout ?? -1, MAX_VISIBILITY_SECONDS, 'VisibilityTimeout');
    const message = [...queue.messages.values()].find(
      (m) => m.receiptHandle !== undefined && m.receiptHandle === receiptHandle,
    );
    if (!message)
      throw new SqsModelError(
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${receiptHandle}" is not a valid receipt handle.`,
      );
    if (message.visibleAt <= this.now())
      throw new SqsModelError('MessageNotInflight', 'The message referred to is not in flight.');
    message.visibleAt = this.now() + seconds * this.msPerSecond;
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  private noQueue(): SqsModelError {
    return new SqsModelError('QueueDoesNotExist', 'The specified queue does not exist.');
  }

  private queue(url: string | undefined): ModelQueue {
    const queue = url === undefined ? undefined : this.queues.get(url);
    if (!queue) throw this.noQueue();
    return queue;
  }

  private queueByArn(arn: string): ModelQueue {
    const queue = [...this.queues.values()].find((candidate) => candidate.arn === arn);
    if (!queue)
      throw new SqsModelError(
        'ResourceNotFoundException',
        "The resource that you specified for the SourceArn parameter doesn't exist.",
      );
    return queue;
  }
}
