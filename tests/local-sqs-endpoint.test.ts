/**
 * The local SQS (local/sandbox/sqs-endpoint.ts) through the real @aws-sdk/client-sqs over loopback
 * HTTP: every action the functions, the poller and scripts/redrive.ts use, SQS's errors as the SDK
 * reads them, the wire format itself, and the redrive script end to end.
 */
import * as sdk from '@aws-sdk/client-sqs';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sendToDeadLetter } from '../lib/queue/dead-letter';
import { sqsApi } from '../lib/queue/sqs-api';
import { MODELED_ERRORS, type SqsEndpoint } from '../local/sandbox/sqs-endpoint';
import { md5OfMessageAttributes } from '../local/sandbox/sqs-model';
import { redrive, type RedriveIo } from '../scripts/redrive';
import { startLocalSqs, type LocalSqs } from './support/local-sqs';

let local: LocalSqs;
let endpoint: SqsEndpoint;
let client: SQSClient;
let jobs: string;
let deadLetters: string;

beforeEach(async () => {
  local = await startLocalSqs({ name: 'app-test-jobs', maxReceiveCount: 2 });
  ({ endpoint, client, jobsUrl: jobs, deadLettersUrl: deadLetters } = local);
});
afterEach(() => local.close());

const attribute = (value: string) => ({ DataType: 'String', StringValue: value });
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('should fail'),
    (error: unknown) => error as Error & Record<string, any>,
  );
const receive = (QueueUrl: string, extra: Partial<sdk.ReceiveMessageCommandInput> = {}) =>
  client
    .send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, ...extra }))
    .then(({ Messages = [] }) => Messages);

describe('the local SQS through the AWS SDK', () => {
  it('GetQueueUrl: a queue URL on the endpoint itself, so the SDK keeps sending there', async () => {
    expect(await client.send(new GetQueueUrlCommand({ QueueName: 'app-test-jobs' }))).toMatchObject({
      QueueUrl: `${endpoint.url}/000000000000/app-test-jobs`,
    });
  });

  it('SendMessage with attributes, then ReceiveMessage with the attributes asked for (the SDK checks the body MD5 both ways)', async () => {
    const attributes = { reason: attribute('helpcrunch_bad_request'), failedAt: attribute('2026-11-24T08:09:10.000Z') };
    const sent = await client.send(
      new SendMessageCommand({ QueueUrl: jobs, MessageBody: '{"v":1}', MessageAttributes: attributes }),
    );
    expect(sent.MD5OfMessageAttributes).toBe(md5OfMessageAttributes(attributes));

    const [message] = await receive(jobs, {
      MessageAttributeNames: ['reason'],
      MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
    });
    expect(message).toMatchObject({
      MessageId: sent.MessageId,
      Body: '{"v":1}',
      MessageAttributes: { reason: attribute('helpcrunch_bad_request') },
    });
    expect(message!.MessageAttributes).not.toHaveProperty('failedAt');
    expect(Object.keys(message!.Attributes!).sort()).toEqual(['ApproximateReceiveCount', 'SentTimestamp']);
    expect(message!.MD5OfMessageAttributes).toBe(
      md5OfMessageAttributes({ reason: attribute('helpcrunch_bad_request') }),
    );
    // In flight now: not handed out again.
    expect(await receive(jobs)).toEqual([]);
  });

  it('SendMessageBatch: one result per entry, Failed entries for those SQS could not take', async () => {
    endpoint.model.failNextEntries(1);
    const result = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: jobs,
        Entries: [
          { Id: '0', MessageBody: 'lost on SQS’s side' },
          { Id: '1', MessageBody: 'fine' },
          { Id: '2', MessageBody: 'control \u0001 character' },
        ],
      }),
    );
    expect(result.Successful?.map((entry) => entry.Id)).toEqual(['1']);
    expect(result.Failed).toEqual([
      { Id: '0', SenderFault: false, Code: 'InternalError', Message: expect.any(String) },
      {
        Id: '2',
        SenderFault: true,
        Code: 'InvalidMessageContents',
        Message: expect.stringContaining('Invalid characters'),
      },
    ]);
    expect((await receive(jobs)).map((message) => message.Body)).toEqual(['fine']);
  });

  it('the functions’ SDK port: enqueue and re-time as lib/queue does', async () => {
    const sqs = sqsApi(client);
    await sqs.sendMessageBatch({ QueueUrl: jobs, Entries: [{ Id: 'a', MessageBody: 'job' }] });
    const [message] = await receive(jobs);

    await sqs.changeMessageVisibility({ QueueUrl: jobs, ReceiptHandle: message!.ReceiptHandle, VisibilityTimeout: 0 });
    const [again] = await receive(jobs, { MessageSystemAttributeNames: ['ApproximateReceiveCount'] });
    expect(again).toMatchObject({ MessageId: message!.MessageId, Attributes: { ApproximateReceiveCount: '2' } });
    // The earlier receive's handle is no longer the message's.
    const stale = await failure(
      sqs.changeMessageVisibility({ QueueUrl: jobs, ReceiptHandle: message!.ReceiptHandle, VisibilityTimeout: 10 }),
    );
    expect(stale).toMatchObject({
      name: 'ReceiptHandleIsInvalid',
      $fault: 'client',
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('DeleteMessage removes a received message; ChangeMessageVisibilityBatch answers per entry', async () => {
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: jobs,
        Entries: [
          { Id: 'a', MessageBody: 'one' },
          { Id: 'b', MessageBody: 'two' },
        ],
      }),
    );
    const [one, two] = await receive(jobs);
    await client.send(new DeleteMessageCommand({ QueueUrl: jobs, ReceiptHandle: one!.ReceiptHandle }));

    const result = await client.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: jobs,
        Entries: [
          { Id: 'two', ReceiptHandle: two!.ReceiptHandle, VisibilityTimeout: 0 },
          { Id: 'gone', ReceiptHandle: one!.ReceiptHandle, VisibilityTimeout: 0 },
        ],
      }),
    );
    expect(result.Successful).toEqual([{ Id: 'two' }]);
    expect(result.Failed).toEqual([
      { Id: 'gone', SenderFault: true, Code: 'ReceiptHandleIsInvalid', Message: expect.any(String) },
    ]);
    expect((await receive(jobs)).map((message) => message.Body)).toEqual(['two']);
  });

  it('GetQueueAttributes: depth (visible, in flight, delayed), ARN and redrive policy', async () => {
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: jobs,
        Entries: [
          { Id: 'a', MessageBody: 'a' },
          { Id: 'b', MessageBody: 'b' },
          { Id: 'c', MessageBody: 'c', DelaySeconds: 900 },
        ],
      }),
    );
    await receive(jobs, { MaxNumberOfMessages: 1 });

    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: jobs, AttributeNames: ['All'] }),
    );
    expect(Attributes).toMatchObject({
      QueueArn: 'arn:aws:sqs:us-east-1:000000000000:app-test-jobs',
      ApproximateNumberOfMessages: '1',
      ApproximateNumberOfMessagesNotVisible: '1',
      ApproximateNumberOfMessagesDelayed: '1',
      VisibilityTimeout: '30',
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:app-test-jobs-dlq',
        maxReceiveCount: 2,
      }),
    });
    const { Attributes: one } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: jobs, AttributeNames: ['QueueArn'] }),
    );
    expect(one).toEqual({ QueueArn: 'arn:aws:sqs:us-east-1:000000000000:app-test-jobs' });
  });

  it('ReceiveMessage long-polls: a receive waiting on an empty queue gets the message sent meanwhile', async () => {
    const waiting = receive(jobs, { WaitTimeSeconds: 20 });
    await client.send(new SendMessageCommand({ QueueUrl: jobs, MessageBody: 'late' }));
    expect((await waiting).map((message) => message.Body)).toEqual(['late']);
  });

  it('ReceiveMessage long-polls past a visibility timeout: the message comes back while the receive waits', async () => {
    await client.send(new SendMessageCommand({ QueueUrl: jobs, MessageBody: 'again' }));
    await receive(jobs, { VisibilityTimeout: 1 });
    // Nothing changes the queue meanwhile: the receive must wake when the timeout ends, long before 20 s.
    expect((await receive(jobs, { WaitTimeSeconds: 20 })).map((message) => message.Body)).toEqual(['again']);
  });

  it('dead-letters a message received more than maxReceiveCount times, and moves it back with a message move task', async () => {
    await client.send(new SendMessageCommand({ QueueUrl: jobs, MessageBody: 'poison' }));
    for (let i = 0; i < 2; i++) {
      const [message] = await receive(jobs);
      await client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: jobs,
          ReceiptHandle: message!.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    }
    expect(await receive(jobs)).toEqual([]);
    const [dead] = await receive(deadLetters, { MessageSystemAttributeNames: ['All'], VisibilityTimeout: 0 });
    expect(dead).toMatchObject({
      Body: 'poison',
      Attributes: { DeadLetterQueueSourceArn: 'arn:aws:sqs:us-east-1:000000000000:app-test-jobs' },
    });

    const dlqArn = 'arn:aws:sqs:us-east-1:000000000000:app-test-jobs-dlq';
    const { TaskHandle } = await client.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn }));
    expect(TaskHandle).toEqual(expect.any(String));
    const { Results } = await client.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn, MaxResults: 1 }));
    expect(Results).toEqual([
      expect.objectContaining({ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 1, SourceArn: dlqArn }),
    ]);
    expect(
      (await receive(jobs, { MessageSystemAttributeNames: ['ApproximateReceiveCount'] })).map((m) => [
        m.Body,
        m.Attributes?.ApproximateReceiveCount,
      ]),
    ).toEqual([['poison', '1']]);
  });
});

describe('FIFO queues through the AWS SDK', () => {
  let fifo: LocalSqs;
  let fifoClient: SQSClient;
  let orders: string;
  let orderDeadLetters: string;
  let clock: number;

  beforeEach(async () => {
    clock = Date.now();
    fifo = await startLocalSqs({ name: 'app-test-jobs', fifo: true, maxReceiveCount: 2, now: () => clock });
    ({ client: fifoClient, jobsUrl: orders, deadLettersUrl: orderDeadLetters } = fifo);
  });
  afterEach(() => fifo.close());

  const send = (MessageBody: string, MessageGroupId: string, MessageDeduplicationId = MessageBody) =>
    fifoClient.send(new SendMessageCommand({ QueueUrl: orders, MessageBody, MessageGroupId, MessageDeduplicationId }));
  const take = (QueueUrl = orders, extra: Partial<sdk.ReceiveMessageCommandInput> = {}) =>
    fifoClient
      .send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          MessageSystemAttributeNames: ['All'],
          ...extra,
        }),
      )
      .then(({ Messages = [] }) => Messages);
  const bodies = (messages: sdk.Message[]) => messages.map((message) => message.Body);
  const release = (message: sdk.Message, QueueUrl = orders) =>
    fifoClient.send(
      new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }),
    );

  it('reports FifoQueue and no content-based deduplication in GetQueueAttributes', async () => {
    const { Attributes } = await fifoClient.send(
      new GetQueueAttributesCommand({ QueueUrl: orders, AttributeNames: ['All'] }),
    );
    expect(Attributes).toMatchObject({ FifoQueue: 'true', ContentBasedDeduplication: 'false' });
    const standard = await client.send(new GetQueueAttributesCommand({ QueueUrl: jobs, AttributeNames: ['All'] }));
    expect(standard.Attributes).not.toHaveProperty('FifoQueue');
  });

  it('answers a send with a SequenceNumber that grows, and delivers the group and deduplication ids as system attributes', async () => {
    const first = await send('a1', 'customer-a');
    const second = await send('a2', 'customer-a');
    expect(first.SequenceNumber).toMatch(/^\d{20,}$/);
    expect(BigInt(second.SequenceNumber!)).toBeGreaterThan(BigInt(first.SequenceNumber!));

    const [message] = await take(orders, { MaxNumberOfMessages: 1 });
    expect(message).toMatchObject({
      MessageId: first.MessageId,
      Body: 'a1',
      Attributes: { MessageGroupId: 'customer-a', MessageDeduplicationId: 'a1', SequenceNumber: first.SequenceNumber },
    });
  });

  it.each([
    ['no MessageGroupId', { MessageDeduplicationId: 'd' }, /MessageGroupId/],
    ['no MessageDeduplicationId (no content-based deduplication)', { MessageGroupId: 'g' }, /MessageDeduplicationId/],
    [
      'a per-message DelaySeconds',
      { MessageGroupId: 'g', MessageDeduplicationId: 'd', DelaySeconds: 5 },
      /DelaySeconds/,
    ],
    ['a group id longer than 128 characters', { MessageGroupId: 'g'.repeat(129), MessageDeduplicationId: 'd' }, /128/],
    [
      'a deduplication id with a space',
      { MessageGroupId: 'g', MessageDeduplicationId: 'd d' },
      /MessageDeduplicationId/,
    ],
  ])('refuses a send with %s', async (_, fields, message) => {
    const error = await failure(
      fifoClient.send(new SendMessageCommand({ QueueUrl: orders, MessageBody: 'x', ...fields })),
    );
    expect(error).toMatchObject({
      name: 'InvalidParameterValue',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    expect(error.message).toMatch(message);
  });

  it('refuses per entry in a batch: the other entries are sent', async () => {
    const result = await fifoClient.send(
      new SendMessageBatchCommand({
        QueueUrl: orders,
        Entries: [
          { Id: 'ok', MessageBody: 'x', MessageGroupId: 'g', MessageDeduplicationId: 'x' },
          { Id: 'nogroup', MessageBody: 'y', MessageDeduplicationId: 'y' },
        ],
      }),
    );
    expect(result.Successful).toEqual([expect.objectContaining({ Id: 'ok', SequenceNumber: expect.any(String) })]);
    expect(result.Failed).toEqual([
      {
        Id: 'nogroup',
        SenderFault: true,
        Code: 'InvalidParameterValue',
        Message: expect.stringContaining('MessageGroupId'),
      },
    ]);
  });

  it('a standard queue refuses a deduplication id', async () => {
    const error = await failure(
      client.send(new SendMessageCommand({ QueueUrl: jobs, MessageBody: 'x', MessageDeduplicationId: 'd' })),
    );
    expect(error).toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('accepts a duplicate within 5 minutes with the first MessageId, and delivers it once; after 5 minutes it is new', async () => {
    const first = await send('job', 'g', 'event-1');
    const again = await send('job, retried', 'g', 'event-1');
    expect(again).toMatchObject({ MessageId: first.MessageId, SequenceNumber: first.SequenceNumber });
    // The body digest is of what this request sent: the SDK checks it.
    expect(again.MD5OfMessageBody).not.toBe(first.MD5OfMessageBody);
    const [message] = await take();
    await fifoClient.send(new DeleteMessageCommand({ QueueUrl: orders, ReceiptHandle: message!.ReceiptHandle }));
    // Deleted, and still a duplicate: SQS keeps the id for the whole interval.
    expect((await send('job', 'g', 'event-1')).MessageId).toBe(first.MessageId);
    expect(await take()).toEqual([]);

    clock += 5 * 60 * 1000;
    const later = await send('job', 'g', 'event-1');
    expect(later.MessageId).not.toBe(first.MessageId);
    expect(bodies(await take())).toEqual(['job']);
  });

  it('delivers group by group in order, and nothing more of a group while one of its messages is in flight', async () => {
    for (const [body, group] of [
      ['a1', 'a'],
      ['b1', 'b'],
      ['a2', 'a'],
      ['c1', 'c'],
      ['b2', 'b'],
    ])
      await send(body!, group!);

    // As many of one group as fit, then the next group's.
    expect(bodies(await take(orders, { MaxNumberOfMessages: 3 }))).toEqual(['a1', 'a2', 'b1']);
    // a and b are in flight: only c is left to hand out.
    const [c1, ...none] = await take();
    expect([c1!.Body, none]).toEqual(['c1', []]);
    await fifoClient.send(new DeleteMessageCommand({ QueueUrl: orders, ReceiptHandle: c1!.ReceiptHandle }));
    expect(await take()).toEqual([]);
  });

  it('a group waits for every message of it in flight: the first one visible again is not enough', async () => {
    await send('a1', 'a');
    await send('a2', 'a');
    const [a1, a2] = await take();
    await release(a1!);
    expect(await take()).toEqual([]);

    await release(a2!);
    const again = await take();
    expect(bodies(again)).toEqual(['a1', 'a2']);
    expect(again.map((m) => m.Attributes?.ApproximateReceiveCount)).toEqual(['2', '2']);
  });

  it('a group in flight becomes receivable once its visibility timeout ends', async () => {
    await send('a1', 'a');
    await take(orders, { VisibilityTimeout: 1 });
    expect(await take()).toEqual([]);
    clock += 1_000;
    expect(bodies(await take())).toEqual(['a1']);
  });

  it('dead-letters to the FIFO dead-letter queue keeping the group; its deduplication id becomes its message id', async () => {
    const sent = await send('poison', 'customer-a', 'event-7');
    for (let i = 0; i < 2; i++) await release((await take())[0]!);
    expect(await take()).toEqual([]);

    const [dead] = await take(orderDeadLetters, { VisibilityTimeout: 0 });
    expect(dead).toMatchObject({
      MessageId: sent.MessageId,
      Body: 'poison',
      Attributes: {
        MessageGroupId: 'customer-a',
        MessageDeduplicationId: sent.MessageId,
        DeadLetterQueueSourceArn: 'arn:aws:sqs:us-east-1:000000000000:app-test-jobs.fifo',
      },
    });
  });

  it('a message move task puts dead letters back in their groups, as new messages no deduplication window drops', async () => {
    // Dead-lettered by SQS after maxReceiveCount receives…
    await send('moved by SQS', 'customer-a', 'event-7');
    for (let i = 0; i < 2; i++) await release((await take())[0]!);
    expect(await take()).toEqual([]);
    // …and by the worker, with a deduplication id the jobs queue has seen within the last 5 minutes.
    await send('sent again', 'customer-c', 'event-8');
    await fifoClient.send(
      new DeleteMessageCommand({ QueueUrl: orders, ReceiptHandle: (await take())[0]!.ReceiptHandle }),
    );
    await fifoClient.send(
      new SendMessageCommand({
        QueueUrl: orderDeadLetters,
        MessageBody: 'dead-lettered by the worker',
        MessageGroupId: 'customer-b',
        MessageDeduplicationId: 'event-8',
      }),
    );
    const dlqArn = 'arn:aws:sqs:us-east-1:000000000000:app-test-jobs-dlq.fifo';
    const jobsArn = 'arn:aws:sqs:us-east-1:000000000000:app-test-jobs.fifo';
    await fifoClient.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn, DestinationArn: jobsArn }));

    const received = await take();
    expect(received.map((m) => [m.Body, m.Attributes?.MessageGroupId, m.Attributes?.ApproximateReceiveCount])).toEqual([
      ['moved by SQS', 'customer-a', '1'],
      ['dead-lettered by the worker', 'customer-b', '1'],
    ]);
    for (const message of received) expect(message.Attributes?.MessageDeduplicationId).toBe(message.MessageId);
  });
});

describe('SQS errors as the SDK reads them', () => {
  it('QueueDoesNotExist: the SDK’s own exception class, a client fault, status 400', async () => {
    const error = await failure(
      client.send(new SendMessageCommand({ QueueUrl: `${endpoint.url}/000000000000/nope`, MessageBody: 'x' })),
    );
    expect(error).toBeInstanceOf(sdk.QueueDoesNotExist);
    expect(error).toMatchObject({
      name: 'QueueDoesNotExist',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'The specified queue does not exist.',
    });
    // scripts/redrive.ts tells a missing queue from other failures by this name.
    expect(await failure(client.send(new GetQueueUrlCommand({ QueueName: 'nope' })))).toMatchObject({
      name: 'QueueDoesNotExist',
    });
  });

  it.each([
    ['EmptyBatchRequest', () => new SendMessageBatchCommand({ QueueUrl: jobs, Entries: [] })],
    [
      'TooManyEntriesInBatchRequest',
      () =>
        new SendMessageBatchCommand({
          QueueUrl: jobs,
          Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `${i}`, MessageBody: 'x' })),
        }),
    ],
    [
      'BatchEntryIdsNotDistinct',
      () =>
        new SendMessageBatchCommand({
          QueueUrl: jobs,
          Entries: [
            { Id: 'a', MessageBody: 'x' },
            { Id: 'a', MessageBody: 'y' },
          ],
        }),
    ],
    [
      'InvalidBatchEntryId',
      () => new SendMessageBatchCommand({ QueueUrl: jobs, Entries: [{ Id: 'not ok!', MessageBody: 'x' }] }),
    ],
    [
      'BatchRequestTooLong',
      () =>
        new SendMessageBatchCommand({
          QueueUrl: jobs,
          Entries: Array.from({ length: 5 }, (_, i) => ({ Id: `${i}`, MessageBody: 'x'.repeat(250 * 1024) })),
        }),
    ],
    [
      'InvalidParameterValue',
      () => new SendMessageCommand({ QueueUrl: jobs, MessageBody: 'x'.repeat(256 * 1024 + 1) }),
    ],
    [
      'InvalidParameterValue',
      () =>
        new SendMessageCommand({
          QueueUrl: jobs,
          MessageBody: 'x',
          MessageAttributes: { reason: { DataType: 'String', StringValue: '' } },
        }),
    ],
    [
      'InvalidAttributeName',
      () => new GetQueueAttributesCommand({ QueueUrl: jobs, AttributeNames: ['Depth' as 'All'] }),
    ],
    ['InvalidParameterValue', () => new ReceiveMessageCommand({ QueueUrl: jobs, MaxNumberOfMessages: 11 })],
  ] as const)('%s', async (name, command) => {
    const error = await failure(client.send(command() as never));
    expect(error).toMatchObject({ name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
  });

  it('MessageNotInflight: re-timing a message that is visible again', async () => {
    await client.send(new SendMessageCommand({ QueueUrl: jobs, MessageBody: 'x' }));
    const [message] = await receive(jobs, { VisibilityTimeout: 0 });
    const error = await failure(
      client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: jobs,
          ReceiptHandle: message!.ReceiptHandle,
          VisibilityTimeout: 5,
        }),
      ),
    );
    expect(error).toMatchObject({ name: 'MessageNotInflight', $metadata: { httpStatusCode: 400 } });
  });

  it('an action it does not implement is InvalidAction, never a plausible success', async () => {
    expect(await failure(client.send(new PurgeQueueCommand({ QueueUrl: jobs })))).toMatchObject({
      name: 'InvalidAction',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('on the wire: the JSON 1.0 content type, x-amzn-query-error and a namespaced __type, as the SQS guide shows', async () => {
    const response = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.GetQueueUrl' },
      body: JSON.stringify({ QueueName: 'nope' }),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.0');
    expect(response.headers.get('x-amzn-query-error')).toBe('AWS.SimpleQueueService.NonExistentQueue;Sender');
    expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toEqual({
      __type: 'com.amazonaws.sqs#QueueDoesNotExist',
      message: 'The specified queue does not exist.',
    });
  });

  it('refuses a body that is not JSON, and keeps serving', async () => {
    const response = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'AmazonSQS.SendMessage' },
      body: '{"QueueUrl":',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-query-error')).toBe('InvalidParameterValue;Sender');
    expect(await client.send(new GetQueueUrlCommand({ QueueName: 'app-test-jobs' }))).toMatchObject({ QueueUrl: jobs });
  });

  it('sends each modelled error with the query code and status the SDK’s model gives it', () => {
    for (const [name, { queryCode, status }] of Object.entries(MODELED_ERRORS)) {
      const schema = (sdk as unknown as Record<string, unknown[] | undefined>)[`${name}$`];
      expect(schema, name).toBeDefined();
      const traits = schema![3] as { awsQueryError?: [string, number]; httpError?: number };
      expect([queryCode, status], name).toEqual(traits.awsQueryError ?? [name, traits.httpError ?? 400]);
    }
  });
});

describe('md5OfMessageAttributes', () => {
  // The vectors published with the aws-md5-of-message-attributes package, which follows the SQS guide's algorithm.
  it('matches the published vectors', () => {
    const binary = { DataType: 'Binary', BinaryValue: Buffer.from('Hello binary world!') };
    const custom = { DataType: 'Number.float', StringValue: '4563442423554324324264524243.32543234' };
    expect(md5OfMessageAttributes({ attribName1: attribute('attribValue 1') })).toBe(
      '19e27d4e946b072f3f58da80d94fd778',
    );
    expect(md5OfMessageAttributes({ customNumberTypeAttrib: custom })).toBe('9fe1b90bbd9965bdf77bac517c7d2495');
    expect(md5OfMessageAttributes({ binaryAttribute: binary })).toBe('31a92b15d92f8db860eda32aceb656c3');
    expect(
      md5OfMessageAttributes({
        attribName1: attribute('attribValue 1'),
        customNumberTypeAttrib: custom,
        binaryAttribute: binary,
      }),
    ).toBe('c932db14a896c663f83c260297d594ff');
  });
});

describe('scripts/redrive.ts against the local SQS', () => {
  it('shows the reasons and moves the dead letters back into their customers’ groups, as new messages', async () => {
    const fifo = await startLocalSqs({ name: 'app-test-jobs', fifo: true, maxReceiveCount: 2 });
    try {
      const sqs = sqsApi(fifo.client);
      // One job that failed for good: the worker dead-letters it with the reason…
      await sendToDeadLetter(
        sqs,
        fifo.deadLettersUrl,
        { body: '{"v":2,"job":"a"}', messageId: 'm-1', groupId: 'customer-a' },
        { code: 'helpcrunch_bad_request', detail: '400' },
      );
      // …and one SQS moved after too many receives, without one.
      await sqs.sendMessageBatch({
        QueueUrl: fifo.jobsUrl,
        Entries: [
          { Id: '0', MessageBody: '{"v":2,"job":"b"}', MessageGroupId: 'customer-b', MessageDeduplicationId: 'e-1' },
        ],
      });
      for (let i = 0; i < 2; i++) fifo.endpoint.model.receive(fifo.jobsUrl, 10, 0);
      expect(fifo.endpoint.model.receive(fifo.jobsUrl, 10)).toEqual([]);
      let output = '';
      const io: RedriveIo = {
        sqs: fifo.client,
        write: (text) => void (output += text),
        confirm: async () => true,
        sleep: async () => undefined,
        interactive: false,
      };

      const result = await redrive(
        { stage: 'test', region: 'us-east-1', service: 'app', yes: true, sample: 100, pollMs: 0 },
        io,
      );

      expect(result).toEqual({ status: 'COMPLETED', moved: 2 });
      expect(output).toContain('1  helpcrunch_bad_request  e.g. 400');
      expect(output).toContain('1  (none: moved by SQS after maxReceiveCount receives)');
      expect(fifo.endpoint.model.depth(fifo.deadLettersUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
      const moved = fifo.endpoint.model.messages(fifo.jobsUrl);
      expect(moved.map((message) => [message.body, message.groupId, message.receiveCount])).toEqual([
        ['{"v":2,"job":"a"}', 'customer-a', 0],
        ['{"v":2,"job":"b"}', 'customer-b', 0],
      ]);
      for (const message of moved) expect(message.deduplicationId).toBe(message.messageId);
    } finally {
      await fifo.close();
    }
  });
});
