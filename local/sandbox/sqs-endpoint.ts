/**
 * A local SQS that answers the way @aws-sdk/client-sqs expects: the AWS JSON 1.0 protocol
 * (POST /, `content-type: application/x-amz-json-1.0`, `x-amz-target: AmazonSQS.<Action>`), over
 * the in-memory queues of sqs-model.ts. Point the real SDK at it with AWS_ENDPOINT_URL_SQS=<url>
 * (plus any region and dummy credentials; signatures are not checked). Queue URLs are
 * <url>/<account>/<name>, on the endpoint itself, as the SDK's QueueUrl handling expects.
 *
 * Actions: what the functions, Lambda's poller and scripts/redrive.ts use: SendMessage,
 * SendMessageBatch (per-entry Failed), ReceiveMessage (long polling up to 20 s), DeleteMessage,
 * ChangeMessageVisibility(Batch), GetQueueUrl, GetQueueAttributes, StartMessageMoveTask,
 * ListMessageMoveTasks. Anything else is InvalidAction. Queues are standard or FIFO (see sqs-model.ts).
 *
 * Errors, as the SQS developer guide's "Interpreting Amazon SQS JSON API responses" shows them: the
 * status, header `x-amzn-query-error: <query code>;Sender` (which the SDK names the error by) and
 * body {"__type": "com.amazonaws.sqs#<Name>", "message"}. Codes and statuses are the SDK model's
 * (MODELED_ERRORS, checked against it in tests/local-sqs-endpoint.test.ts).
 *
 * Beside the API, for the sandbox page (CORS open, read-only): GET /_local/queues answers each
 * queue's depth, and GET /_local/queues/events streams it (Server-Sent Events) as it changes.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { QueueAttributeName, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import { baseUrl, closerFor, listen, readBody, sendJson } from './http-server';
import {
  SqsModel,
  SqsModelError,
  md5Hex,
  md5OfMessageAttributes,
  type ModelMessage,
  type ModelQueueOptions,
  type ModelSend,
} from './sqs-model';

export interface QueueDefinition extends Omit<ModelQueueOptions, 'redrive'> {
  name: string;
  /** The dead-letter queue (another definition's name) and the receives before a message moves there. */
  redrive?: { deadLetterQueue: string; maxReceiveCount: number };
}

export interface SqsEndpointOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  region?: string;
  /** Created in order: a dead-letter queue before the queues that name it. */
  queues?: readonly QueueDefinition[];
  /** The queues' clock (visibility, deduplication interval); default Date.now. */
  now?: () => number;
}

export interface SqsEndpoint {
  /** e.g. http://127.0.0.1:PORT — the value for AWS_ENDPOINT_URL_SQS. */
  readonly url: string;
  readonly port: number;
  /** The queues, for the local poller and tests. */
  readonly model: SqsModel;
  /** Queue name -> URL. */
  queueUrl(name: string): string;
  close(): Promise<void>;
}

const CONTENT_TYPE = 'application/x-amz-json-1.0';
const TARGET_PREFIX = 'AmazonSQS.';
// The largest request: a 1 MiB batch as JSON, with room for escaping and attributes.
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;
const MAX_WAIT_SECONDS = 20;
const PUSH_INTERVAL_MS = 100;

/** SQS's errors: the code x-amzn-query-error carries and the HTTP status (the SDK model's awsQueryError trait). */
export const MODELED_ERRORS: Record<string, { queryCode: string; status: number }> = {
  QueueDoesNotExist: { queryCode: 'AWS.SimpleQueueService.NonExistentQueue', status: 400 },
  ReceiptHandleIsInvalid: { queryCode: 'ReceiptHandleIsInvalid', status: 404 },
  MessageNotInflight: { queryCode: 'AWS.SimpleQueueService.MessageNotInflight', status: 400 },
  EmptyBatchRequest: { queryCode: 'AWS.SimpleQueueService.EmptyBatchRequest', status: 400 },
  TooManyEntriesInBatchRequest: { queryCode: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest', status: 400 },
  BatchEntryIdsNotDistinct: { queryCode: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct', status: 400 },
  BatchRequestTooLong: { queryCode: 'AWS.SimpleQueueService.BatchRequestTooLong', status: 400 },
  InvalidBatchEntryId: { queryCode: 'AWS.SimpleQueueService.InvalidBatchEntryId', status: 400 },
  UnsupportedOperation: { queryCode: 'AWS.SimpleQueueService.UnsupportedOperation', status: 400 },
  ResourceNotFoundException: { queryCode: 'ResourceNotFoundException', status: 404 },
  // Modelled without a query code: the name is the code, the status 400.
  InvalidMessageContents: { queryCode: 'InvalidMessageContents', status: 400 },
  InvalidAttributeName: { queryCode: 'InvalidAttributeName', status: 400 },
};

/** SQS's common errors (API reference, Common Errors); not in the SDK model, which names them by the query code. */
const COMMON_ERRORS: Record<string, number> = {
  InvalidAction: 400,
  InvalidParameterValue: 400,
  MissingParameter: 400,
  InternalFailure: 500,
};

/** The wire form of message attributes: BinaryValue as base64. */
type WireAttributes = Record<string, { DataType?: string; StringValue?: string; BinaryValue?: string }>;

/** The SDK form; a missing DataType is left for the model to refuse. */
const fromWire = (attributes: WireAttributes | undefined): Record<string, MessageAttributeValue> | undefined =>
  attributes &&
  Object.fromEntries(
    Object.entries(attributes).map(([name, { BinaryValue, ...value }]) => [
      name,
      {
        ...value,
        ...(BinaryValue !== undefined && { BinaryValue: Buffer.from(BinaryValue, 'base64') }),
      } as MessageAttributeValue,
    ]),
  );

const toWire = (attributes: Record<string, MessageAttributeValue>): WireAttributes =>
  Object.fromEntries(
    Object.entries(attributes).map(([name, { BinaryValue, ...value }]) => [
      name,
      { ...value, ...(BinaryValue !== undefined && { BinaryValue: Buffer.from(BinaryValue).toString('base64') }) },
    ]),
  );

const missing = (name: string) =>
  new SqsModelError('MissingParameter', `The request must contain the parameter ${name}.`);

function required<T>(request: Record<string, unknown>, name: string, type: 'string' | 'number' | 'array'): T {
  const value = request[name];
  const ok = type === 'array' ? Array.isArray(value) : typeof value === type && value !== '';
  if (value === undefined || value === null || value === '') throw missing(name);
  if (!ok) throw new SqsModelError('InvalidParameterValue', `Value for parameter ${name} is invalid.`);
  return value as T;
}

/** The names a ReceiveMessage asked for ("All", ".*" prefixes), applied to what a message has. */
function selected<T>(available: Record<string, T>, requested: unknown): Record<string, T> {
  const names = Array.isArray(requested) ? requested.map(String) : [];
  const wanted = (name: string) =>
    names.some(
      (pattern) =>
        pattern === 'All' ||
        pattern === '.*' ||
        pattern === name ||
        (pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1))),
    );
  return Object.fromEntries(Object.entries(available).filter(([name]) => wanted(name)));
}

function systemAttributes(message: ModelMessage): Record<string, string> {
  return {
    ApproximateReceiveCount: String(message.receiveCount),
    SentTimestamp: String(message.sentAt),
    SenderId: 'AIDALOCALSANDBOX0000',
    ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? message.sentAt),
    ...(message.deadLetterSourceArn && { DeadLetterQueueSourceArn: message.deadLetterSourceArn }),
    ...(message.groupId !== undefined && { MessageGroupId: message.groupId }),
    ...(message.deduplicationId !== undefined && { MessageDeduplicationId: message.deduplicationId }),
    ...(message.sequenceNumber !== undefined && { SequenceNumber: message.sequenceNumber }),
  };
}

/** SendMessage's and SendMessageBatchRequestEntry's fields, from the wire; the model refuses a missing body. */
const sendOf = (request: Record<string, unknown>): ModelSend & { MessageBody: string } => ({
  MessageBody: request.MessageBody as string,
  DelaySeconds: request.DelaySeconds as number | undefined,
  MessageAttributes: fromWire(request.MessageAttributes as WireAttributes | undefined),
  MessageGroupId: request.MessageGroupId as string | undefined,
  MessageDeduplicationId: request.MessageDeduplicationId as string | undefined,
});

export async function startSqsEndpoint(options: SqsEndpointOptions = {}): Promise<SqsEndpoint> {
  const host = options.host ?? '127.0.0.1';
  const streams = new Set<ServerResponse>();
  let pushTimer: NodeJS.Timeout | undefined;
  let model!: SqsModel;

  function queueUrlOf(request: Record<string, unknown>): string {
    return required<string>(request, 'QueueUrl', 'string');
  }

  /** Waits up to `seconds` for a change to the queues (ReceiveMessage's long polling), or the client to go. */
  function nextChange(seconds: number, res: ServerResponse): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timeout);
        unsubscribe();
        res.off('close', done);
        resolve();
      };
      const unsubscribe = model.onChange(done);
      const timeout = setTimeout(done, seconds * 1000);
      res.once('close', done);
    });
  }

  async function receiveMessage(request: Record<string, unknown>, res: ServerResponse) {
    const url = queueUrlOf(request);
    const max = (request.MaxNumberOfMessages as number | undefined) ?? 1;
    const wait = (request.WaitTimeSeconds as number | undefined) ?? 0;
    if (!Number.isInteger(wait) || wait < 0 || wait > MAX_WAIT_SECONDS) {
      throw new SqsModelError(
        'InvalidParameterValue',
        `Value ${wait} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= ${MAX_WAIT_SECONDS}, if provided.`,
      );
    }
    const deadline = Date.now() + wait * 1000;
    let messages = model.receive(url, max, request.VisibilityTimeout as number | undefined);
    while (messages.length === 0 && Date.now() < deadline && !res.destroyed) {
      // Until a change, or until a message (a FIFO group) becomes receivable on its own.
      await nextChange(Math.min(deadline - Date.now(), model.msUntilReceivable(url) ?? Infinity) / 1000, res);
      messages = model.receive(url, max, request.VisibilityTimeout as number | undefined);
    }
    if (messages.length === 0) return {};
    const wantedSystem = [
      ...[request.AttributeNames ?? []].flat(),
      ...[request.MessageSystemAttributeNames ?? []].flat(),
    ];
    return {
      Messages: messages.map((message) => {
        const attributes = selected(message.attributes, request.MessageAttributeNames);
        const system = selected(systemAttributes(message), wantedSystem);
        const attributesMd5 = md5OfMessageAttributes(attributes);
        return {
          MessageId: message.messageId,
          ReceiptHandle: message.receiptHandle,
          MD5OfBody: md5Hex(message.body),
          Body: message.body,
          ...(Object.keys(system).length > 0 && { Attributes: system }),
          ...(attributesMd5 && { MD5OfMessageAttributes: attributesMd5, MessageAttributes: toWire(attributes) }),
        };
      }),
    };
  }

  function queueAttributes(request: Record<string, unknown>) {
    const url = queueUrlOf(request);
    const names = [request.AttributeNames ?? []].flat().map(String);
    const known = new Set<string>(Object.values(QueueAttributeName));
    const unknown = names.find((name) => !known.has(name));
    if (unknown) throw new SqsModelError('InvalidAttributeName', `Unknown Attribute ${unknown}.`);
    const { visible, inFlight, delayed } = model.depth(url);
    const redrive = model.redrivePolicy(url);
    const all: Record<string, string> = {
      QueueArn: model.arnOf(url),
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
      ApproximateNumberOfMessagesDelayed: String(delayed),
      VisibilityTimeout: String(model.visibilityTimeoutSeconds(url)),
      DelaySeconds: '0',
      ReceiveMessageWaitTimeSeconds: '0',
      ...(model.isFifo(url) && { FifoQueue: 'true', ContentBasedDeduplication: 'false' }),
      ...(redrive && {
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: model.arnOf(redrive.deadLetterQueueUrl),
          maxReceiveCount: redrive.maxReceiveCount,
        }),
      }),
    };
    const attributes = names.includes('All')
      ? all
      : Object.fromEntries(names.filter((name) => name in all).map((name) => [name, all[name]!]));
    return Object.keys(attributes).length > 0 ? { Attributes: attributes } : {};
  }

  const actions: Record<string, (request: Record<string, unknown>, res: ServerResponse) => unknown> = {
    SendMessage: (request) => model.sendMessage({ QueueUrl: queueUrlOf(request), ...sendOf(request) }),
    SendMessageBatch: (request) => {
      const entries = (request.Entries as Record<string, unknown>[] | undefined) ?? [];
      return model.sendMessageBatch({
        QueueUrl: queueUrlOf(request),
        Entries: entries.map((entry) => ({ Id: entry.Id as string, ...sendOf(entry) })),
      });
    },
    ReceiveMessage: receiveMessage,
    DeleteMessage: (request) => {
      model.deleteMessage(queueUrlOf(request), required<string>(request, 'ReceiptHandle', 'string'));
      return {};
    },
    ChangeMessageVisibility: (request) =>
      model.changeMessageVisibility({
        QueueUrl: queueUrlOf(request),
        ReceiptHandle: required<string>(request, 'ReceiptHandle', 'string'),
        VisibilityTimeout: required<number>(request, 'VisibilityTimeout', 'number'),
      }),
    ChangeMessageVisibilityBatch: (request) =>
      model.changeMessageVisibilityBatch({
        QueueUrl: queueUrlOf(request),
        Entries:
          (request.Entries as { Id: string; ReceiptHandle: string; VisibilityTimeout?: number }[] | undefined) ?? [],
      }),
    GetQueueUrl: (request) => ({ QueueUrl: model.queueUrl(required<string>(request, 'QueueName', 'string')) }),
    GetQueueAttributes: queueAttributes,
    StartMessageMoveTask: (request) => ({
      TaskHandle: model.startMessageMoveTask(
        required<string>(request, 'SourceArn', 'string'),
        request.DestinationArn as string | undefined,
      ),
    }),
    ListMessageMoveTasks: (request) => ({
      Results: model.listMessageMoveTasks(
        required<string>(request, 'SourceArn', 'string'),
        (request.MaxResults as number | undefined) ?? 1,
      ),
    }),
  };

  function sendAws(res: ServerResponse, status: number, body: unknown, queryError?: string): void {
    sendJson(res, status, body, {
      'content-type': CONTENT_TYPE,
      'x-amzn-requestid': randomUUID(),
      ...(queryError && { 'x-amzn-query-error': queryError }),
    });
  }

  function sendError(res: ServerResponse, name: string, message: string): void {
    const modeled = MODELED_ERRORS[name];
    const status = modeled?.status ?? COMMON_ERRORS[name] ?? 400;
    const fault = status >= 500 ? 'Receiver' : 'Sender';
    sendAws(res, status, { __type: `com.amazonaws.sqs#${name}`, message }, `${modeled?.queryCode ?? name};${fault}`);
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.headers['x-amz-target'];
    const action =
      typeof target === 'string' && target.startsWith(TARGET_PREFIX)
        ? actions[target.slice(TARGET_PREFIX.length)]
        : undefined;
    if (req.method !== 'POST' || !action) {
      req.resume();
      return sendError(
        res,
        'InvalidAction',
        `The action ${String(target ?? req.method)} is not valid for this endpoint.`,
      );
    }
    let request: unknown;
    try {
      request = JSON.parse((await readBody(req, MAX_REQUEST_BYTES)).toString('utf8') || '{}');
    } catch {
      return sendError(res, 'InvalidParameterValue', 'The request body is not valid JSON, or is too long.');
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      return sendError(res, 'InvalidParameterValue', 'The request body must be a JSON object.');
    }
    try {
      sendAws(res, 200, await action(request as Record<string, unknown>, res));
    } catch (error) {
      if (error instanceof SqsModelError) return sendError(res, error.name, error.message);
      sendError(res, 'InternalFailure', 'The request processing has failed because of an unknown error.');
    }
  }

  // --- the sandbox page's view ---
  const depths = () => ({ queues: model.queueDepths().map(({ name, depth }) => ({ name, ...depth })) });

  function pushDepths(): void {
    pushTimer = undefined;
    const frame = `event: queues\ndata: ${JSON.stringify(depths())}\n\n`;
    for (const stream of streams) stream.write(frame);
  }

  function serveView(req: IncomingMessage, res: ServerResponse): boolean {
    const route = `${req.method} ${(req.url ?? '/').split('?')[0]}`;
    const cors = { 'access-control-allow-origin': '*', 'cache-control': 'no-store' };
    if (route === 'GET /_local/queues') {
      sendJson(res, 200, depths(), cors);
    } else if (route === 'GET /_local/queues/events') {
      res.writeHead(200, { ...cors, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
      res.write(`retry: 1000\n\nevent: queues\ndata: ${JSON.stringify(depths())}\n\n`);
      streams.add(res);
      req.once('close', () => streams.delete(res));
    } else {
      return false;
    }
    return true;
  }

  const server = createServer((req, res) => {
    if (serveView(req, res)) return;
    handleApi(req, res).catch(() =>
      sendError(res, 'InternalFailure', 'The request processing has failed because of an unknown error.'),
    );
  });
  const port = await listen(server, host, options.port ?? 0);
  const url = baseUrl(host, port);
  model = new SqsModel({ baseUrl: url, region: options.region ?? 'us-east-1', now: options.now });
  const urls = new Map<string, string>();
  for (const { name, redrive, ...queue } of options.queues ?? []) {
    const deadLetterQueueUrl = redrive && urls.get(redrive.deadLetterQueue);
    if (redrive && !deadLetterQueueUrl)
      throw new Error(`Queue ${name}: create its dead-letter queue ${redrive.deadLetterQueue} first`);
    urls.set(
      name,
      model.createQueue(name, {
        ...queue,
        ...(redrive && {
          redrive: { deadLetterQueueUrl: deadLetterQueueUrl!, maxReceiveCount: redrive.maxReceiveCount },
        }),
      }),
    );
  }
  // Depth changes as messages become visible again too, which no action reports: push once a second as well.
  const unsubscribe = model.onChange(() => {
    if (streams.size > 0) pushTimer ??= setTimeout(pushDepths, PUSH_INTERVAL_MS);
  });
  const heartbeat = setInterval(() => streams.size > 0 && pushDepths(), 1_000).unref();
  const closeServer = closerFor(server);

  return {
    url,
    port,
    model,
    queueUrl: (name) => model.queueUrl(name),
    close: () => {
      unsubscribe();
      clearInterval(heartbeat);
      clearTimeout(pushTimer);
      for (const stream of streams) stream.end();
      streams.clear();
      return closeServer();
    },
  };
}
