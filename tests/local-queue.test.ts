/**
 * The local stack in queue dispatch, the deployed default, over real HTTP: triggers enqueue to the
 * local FIFO SQS through the AWS SDK (AWS_ENDPOINT_URL_SQS), the local event source drives the
 * worker function, and the worker untags in the sandbox or dead-letters with a reason. The local
 * DynamoDB runs beside them with the template's tables (AWS_ENDPOINT_URL_DYNAMODB).
 */
import { createHmac } from 'node:crypto';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../local/host/local-stack';
import { localDynamoDbClient } from '../local/sandbox/dynamodb';
import { SUITE_RULES } from './support/suite-rules';

let stack: LocalStack;
let logged: string[];
let sqs: SQSClient;

beforeAll(async () => {
  logged = [];
  stack = await startLocalStack({ env: {}, rulesFile: SUITE_RULES, write: (text) => logged.push(text) });
  sqs = new SQSClient({
    endpoint: stack.queue!.sqs.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  sqs?.destroy();
  await stack?.close();
});

beforeEach(() => {
  stack.sandbox!.reset();
  logged.length = 0;
});

const tagsOf = (id: number) => stack.sandbox!.customer(id)?.tags.map((tag) => tag.name);
const poll = { timeout: 20_000 };

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${stack.hostUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: response.status, json: (await response.json()) as unknown };
}

const lostDeal = JSON.stringify({ status: 'lost', person: { email: 'ada@example.com' } });
const crmSignature = (body: string) =>
  `sha256=${createHmac('sha256', stack.secrets['helpcrunch-untag/crm-webhook']!).update(body).digest('hex')}`;

describe('startLocalStack in queue mode (the default)', () => {
  it('runs the local SQS with the FIFO jobs queue and its FIFO dead-letter queue, named as `--stage local` would deploy them', async () => {
    expect(stack.dispatch).toBe('queue');
    expect(stack.queue!.jobsQueueUrl).toBe(`${stack.queue!.sqs.url}/000000000000/helpcrunch-untag-local-jobs.fifo`);
    expect(stack.queue!.deadLetterQueueUrl).toBe(
      `${stack.queue!.sqs.url}/000000000000/helpcrunch-untag-local-jobs-dlq.fifo`,
    );
    for (const QueueUrl of [stack.queue!.jobsQueueUrl, stack.queue!.deadLetterQueueUrl]) {
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
      expect(Attributes).toMatchObject({ FifoQueue: 'true', ContentBasedDeduplication: 'false' });
    }
    expect(process.env.AWS_ENDPOINT_URL_SQS).toBeUndefined();
  });

  it('runs the local DynamoDB with the ledger table, created from serverless.yml', async () => {
    expect(stack.dynamoDb.tableNames).toEqual(['helpcrunch-untag-local-ledger']);
    const client = localDynamoDbClient(stack.dynamoDb.url);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: 'helpcrunch-untag-local-ledger' }));
    client.destroy();
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(process.env.AWS_ENDPOINT_URL_DYNAMODB).toBeUndefined();
  });

  it('a signed webhook is answered 202 at once; the worker then removes the tags', async () => {
    const response = await post('/webhooks/crm', lostDeal, { 'x-signature': crmSignature(lostDeal) });

    expect(response).toEqual({ status: 202, json: { queued: 1 } });
    await expect.poll(() => tagsOf(1001), poll).toEqual([]);
    await expect
      .poll(() => logged.join(''), poll)
      .toMatch(/✓ untagged {5}deal-lost {2}customer 1001 {2}− Lead, Trial user {2}2 requests/);
    expect(logged.join('')).toMatch(/→ queued {3}1 job\n/);
    expect(logged.join('')).toMatch(/POST \/webhooks\/crm → 202/);
  });

  it('an EventBridge event is queued the same way', async () => {
    const response = await post(
      '/events',
      JSON.stringify({
        source: 'billing.app',
        'detail-type': 'Subscription Cancelled',
        detail: { account: { id: 'u-grace' } },
      }),
    );

    expect(response).toEqual({ status: 200, json: { queued: 1 } });
    await expect.poll(() => tagsOf(1002), poll).toEqual(['VIP']);
  });

  it('still refuses a bad webhook at once, queuing nothing', async () => {
    const depth = async () => {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: stack.queue!.jobsQueueUrl, AttributeNames: ['All'] }),
      );
      return [Attributes?.ApproximateNumberOfMessages, Attributes?.ApproximateNumberOfMessagesNotVisible];
    };
    // An earlier test's message is deleted only once the worker has recorded it in the ledger, a moment after its tags changed.
    await expect.poll(depth, poll).toEqual(['0', '0']);

    const response = await post('/webhooks/crm', lostDeal, { 'x-signature': 'sha256=00' });

    expect(response.status).toBe(401);
    expect(await depth()).toEqual(['0', '0']);
  });

  it('dead-letters a message the worker cannot read, with the reason, keeping its group, and says so', async () => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queue!.jobsQueueUrl,
        MessageBody: '{"v":1,"broken"',
        MessageGroupId: 'customer-x',
        MessageDeduplicationId: 'broken-1',
      }),
    );

    await expect
      .poll(
        () =>
          stack
            .queue!.sqs.model.messages(stack.queue!.deadLetterQueueUrl)
            .map((message) => message.attributes.reason?.StringValue),
        poll,
      )
      .toEqual(['invalid_message']);
    expect(stack.queue!.sqs.model.messages(stack.queue!.deadLetterQueueUrl)[0]!.groupId).toBe('customer-x');
    await expect
      .poll(() => logged.join(''), poll)
      .toMatch(/✗ dead-lettered {2}message [0-9a-f]{8}, receive 1 {2}invalid_message/);
    expect(stack.queue!.sqs.model.depth(stack.queue!.jobsQueueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });
});
