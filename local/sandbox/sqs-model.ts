/**
 * An in-memory model of the SQS behaviour the queue path relies on, behind the local SQS endpoint
 * (sqs-endpoint.ts) and, in process, the zero-loss simulation and the queue benchmark: visibility
 * timeouts, receive counts, receipt handles that only the latest receive holds, delays, a redrive
 * policy (a message received more than maxReceiveCount times moves to the dead-letter queue,
 * keeping its attributes), message move tasks back out of it, and the limits and errors of the API
 * reference (docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference). Inputs and outputs
 * are the SDK's shapes, so the endpoint only translates the wire.
 *
 * FIFO queues (the developer guide's "FIFO queue key terms", "Amazon SQS message deduplication and
 * grouping", and re:Post's "Why doesn't my FIFO queue return all messages"): every send names a
 * MessageGroupId and a MessageDeduplicationId (no content-based deduplication); no per-message
 * DelaySeconds; a deduplication id seen in the last 5 minutes is accepted and not delivered, the
 * answer carrying the first message's MessageId; each message gets a SequenceNumber; a receive
 * returns messages in group order, as many of one group as it can, and nothing of a group that has
 * a message in flight. A FIFO queue's dead-letter queue is FIFO; a message moved there keeps its
 * group, its deduplication id becomes its message id and its enqueue time restarts (guide: "Learn
 * how to configure a dead-letter queue redrive", "Setting-up dead-letter queue retention").
 *
 * Time can be scaled: one SQS second lasts `msPerSecond` model milliseconds, so backoffs of minutes
 * pass in a test run while the HelpCrunch side keeps real time.
 */
import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
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
  /** A FIFO queue; its name must end in .fifo. */
  fifo?: boolean;
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
  /** FIFO queues (and standard ones, where it only names a tenant): the message group. */
  groupId?: string;
  /** FIFO queues only. */
  deduplicationId?: string;
  sequenceNumber?: string;
}

/** What a send answers (SendMessageResult, with what every send has). */
type SentMessage = Pick<SendMessageResult, 'MD5OfMessageAttributes' | 'SequenceNumber'> & {
  MessageId: string;
  MD5OfMessageBody: string;
};

/** What a send gives a queue: SendMessage's and SendMessageBatchRequestEntry's fields. */
export interface ModelSend {
  MessageBody?: string;
  MessageAttributes?: Record<string, MessageAttributeValue>;
  DelaySeconds?: number;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
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
  /** FIFO: deduplication id -> the message first sent with it, until the interval ends (model time). */
  deduplication: Map<string, { messageId: string; sequenceNumber: string; until: number }>;
  /** FIFO: the last SequenceNumber given. */
  sequence: bigint;
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
/** FIFO queues' deduplication interval. */
const DEDUPLICATION_SECONDS = 5 * 60;
// MessageGroupId and MessageDeduplicationId: 1 to 128 alphanumeric or punctuation characters (SendMessage).
const FIFO_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;
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

/** A FIFO send's group and deduplication ids, or throws as SQS refuses the send. */
function checkFifoSend({ MessageGroupId, MessageDeduplicationId, DelaySeconds }: ModelSend) {
  if (DelaySeconds !== undefined)
    throw invalid(
      `Value ${DelaySeconds} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.`,
    );
  if (MessageGroupId === undefined || MessageGroupId === '')
    throw invalid('The request must contain the parameter MessageGroupId.');
  if (MessageDeduplicationId === undefined || MessageDeduplicationId === '')
    throw invalid(
      'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
    );
  for (const [name, value] of [
    ['MessageGroupId', MessageGroupId],
    ['MessageDeduplicationId', MessageDeduplicationId],
  ]) {
    if (!FIFO_ID.test(value!))
      throw invalid(
        `Value ${value} for parameter ${name} is invalid. Reason: It must be 1 to 128 alphanumeric or punctuation characters.`,
      );
  }
  return { groupId: MessageGroupId, deduplicationId: MessageDeduplicationId };
}

/** A standard queue's send delay. A group id there only names a tenant (fair queues); deduplication is FIFO's. */
function standardDelaySeconds({ MessageDeduplicationId, DelaySeconds }: ModelSend): number {
  if (MessageDeduplicationId !== undefined)
    throw invalid(
      `Value ${MessageDeduplicationId} for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type.`,
    );
  return checkSeconds(DelaySeconds, MAX_DELAY_SECONDS, 'DelaySeconds');
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
    const fifo = options.fifo === true;
    if (fifo !== name.endsWith('.fifo'))
      throw new Error(`Queue ${name}: a FIFO queue's name, and only its, ends in .fifo`);
    const deadLetterQueue = options.redrive && this.queue(options.redrive.deadLetterQueueUrl);
    if (deadLetterQueue && (deadLetterQueue.options.fifo === true) !== fifo)
      throw new Error(`Queue ${name}: its dead-letter queue must be of the same type (FIFO or standard)`);
    const url = `${this.baseUrl}/${this.accountId}/${name}`;
    const arn = `arn:aws:sqs:${this.region}:${this.accountId}:${name}`;
    // Sequence numbers are large and grow; the documentation's example has 20 digits.
    const sequence = BigInt(this.now()) * 10_000_000n;
    this.queues.set(url, { name, url, arn, options, messages: new Map(), deduplication: new Map(), sequence });
    return url;
  }

  isFifo(queueUrl: string): boolean {
    return this.queue(queueUrl).options.fifo === true;
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

  /** Forgets every FIFO queue's deduplication ids, as if their 5 minutes had passed (npm start's reset). */
  forgetDeduplication(): void {
    for (const queue of this.queues.values()) queue.deduplication.clear();
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
        Successful.push({ Id: entry.Id, ...this.add(queue, entry) });
      } catch (error) {
        const { name, message } = error as SqsModelError;
        Failed.push({ Id: entry.Id, SenderFault: true, Code: name, Message: message });
      }
    }
    this.changed();
    return { Successful, Failed };
  }

  async sendMessage({ QueueUrl, ...send }: SendMessageCommandInput): Promise<SendMessageResult> {
    const sent = this.add(this.queue(QueueUrl), send);
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

  /**
   * ReceiveMessage: up to `max` visible messages, oldest first (FIFO: group by group, skipping groups
   * with a message in flight); SQS's redrive happens here.
   */
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
    for (const message of this.deliveryOrder(queue)) {
      if (received.length === max) break;
      if (message.visibleAt > now) continue;
      const { redrive } = queue.options;
      if (redrive && message.receiveCount >= redrive.maxReceiveCount) {
        this.moveToDeadLetterQueue(queue, message, this.queue(redrive.deadLetterQueueUrl));
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
      // A redriven message is a new message: a new id and enqueue time (the guide's redrive page). On
      // FIFO it keeps its group; its deduplication id, like a dead-lettered one's, becomes its new id,
      // so no deduplication window can drop it.
      const messageId = randomUUID();
      target.messages.set(messageId, {
        ...message,
        messageId,
        receiveCount: 0,
        receiptHandle: undefined,
        visibleAt: now,
        sentAt: now,
        firstReceivedAt: undefined,
        deadLetterSourceArn: undefined,
        ...(target.options.fifo && this.deduplicated(target, messageId, messageId)),
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

  /**
   * Model ms until a receive can return a message: 0 if one can now, undefined when the queue is
   * empty. A FIFO group with messages in flight waits until they are all visible again (or deleted).
   */
  msUntilReceivable(queueUrl: string): number | undefined {
    const queue = this.queue(queueUrl);
    const now = this.now();
    const wait = (visibleAt: number) => Math.max(0, visibleAt - now);
    let soonest: number | undefined;
    if (!queue.options.fifo) {
      for (const { visibleAt } of queue.messages.values()) soonest = Math.min(soonest ?? Infinity, wait(visibleAt));
      return soonest;
    }
    for (const messages of this.groups(queue).values()) {
      soonest = Math.min(soonest ?? Infinity, Math.max(...messages.map(({ visibleAt }) => wait(visibleAt))));
    }
    return soonest;
  }

  private add(queue: ModelQueue, send: ModelSend): SentMessage {
    const MessageBody = checkBody(send.MessageBody);
    const attributes = checkAttributes(send.MessageAttributes);
    const attributesMd5 = md5OfMessageAttributes(attributes);
    const digests = {
      MD5OfMessageBody: md5Hex(MessageBody),
      ...(attributesMd5 && { MD5OfMessageAttributes: attributesMd5 }),
    };
    const fifo = queue.options.fifo ? checkFifoSend(send) : undefined;
    const delaySeconds = fifo ? 0 : standardDelaySeconds(send);
    const now = this.now();
    this.forgetExpired(queue, now);
    const duplicate = fifo && queue.deduplication.get(fifo.deduplicationId);
    // Accepted, not delivered again: the answer names the message first sent with this id.
    if (duplicate) return { MessageId: duplicate.messageId, SequenceNumber: duplicate.sequenceNumber, ...digests };
    const messageId = randomUUID();
    const ids = fifo && this.deduplicated(queue, messageId, fifo.deduplicationId);
    queue.messages.set(messageId, {
      messageId,
      body: MessageBody,
      attributes,
      receiveCount: 0,
      visibleAt: now + delaySeconds * this.msPerSecond,
      sentAt: now,
      ...(send.MessageGroupId !== undefined && { groupId: send.MessageGroupId }),
      ...ids,
    });
    return { MessageId: messageId, ...digests, ...(ids && { SequenceNumber: ids.sequenceNumber }) };
  }

  /** Registers a FIFO message's deduplication id for the interval; its ids, with a new SequenceNumber. */
  private deduplicated(
    queue: ModelQueue,
    messageId: string,
    deduplicationId: string,
  ): { deduplicationId: string; sequenceNumber: string } {
    queue.sequence += BigInt(randomInt(1, 1_000));
    const sequenceNumber = queue.sequence.toString();
    const until = this.now() + DEDUPLICATION_SECONDS * this.msPerSecond;
    queue.deduplication.set(deduplicationId, { messageId, sequenceNumber, until });
    return { deduplicationId, sequenceNumber };
  }

  private forgetExpired(queue: ModelQueue, now: number): void {
    for (const [id, { until }] of queue.deduplication) if (until <= now) queue.deduplication.delete(id);
  }

  /** Messages in the order a receive considers them: a FIFO queue's group by group, oldest group first. */
  private deliveryOrder(queue: ModelQueue): ModelMessage[] {
    if (!queue.options.fifo) return [...queue.messages.values()];
    const now = this.now();
    return [...this.groups(queue).values()]
      .filter((messages) => messages.every(({ visibleAt }) => visibleAt <= now))
      .flat();
  }

  /** A FIFO queue's messages by group, groups in the order of their oldest message. */
  private groups(queue: ModelQueue): Map<string, ModelMessage[]> {
    const groups = new Map<string, ModelMessage[]>();
    for (const message of queue.messages.values()) {
      const group = groups.get(message.groupId!) ?? [];
      group.push(message);
      groups.set(message.groupId!, group);
    }
    return groups;
  }

  /** The redrive policy's move: as it is, attributes and all, without a reason of ours. */
  private moveToDeadLetterQueue(queue: ModelQueue, message: ModelMessage, deadLetterQueue: ModelQueue): void {
    queue.messages.delete(message.messageId);
    const now = this.now();
    deadLetterQueue.messages.set(message.messageId, {
      ...message,
      receiptHandle: undefined,
      visibleAt: now,
      deadLetterSourceArn: queue.arn,
      // FIFO: the enqueue time restarts, and the deduplication id becomes the message id, so two
      // messages that shared one both find room in the dead-letter queue.
      ...(deadLetterQueue.options.fifo && {
        sentAt: now,
        ...this.deduplicated(deadLetterQueue, message.messageId, message.messageId),
      }),
    });
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
