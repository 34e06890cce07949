/**
 * The local DynamoDB (local/sandbox/dynamodb.ts): dynalite with serverless.yml's tables, through the
 * real @aws-sdk/client-dynamodb over loopback HTTP, as the functions reach it with
 * AWS_ENDPOINT_URL_DYNAMODB. Conditional writes are what the ledger relies on.
 */
import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDynamoDbClient, startDynamoDb } from '../local/sandbox/dynamodb';
import { startTemplateDynamoDb, type TemplateDynamoDb } from './support/local-dynamodb';

let db: TemplateDynamoDb;
let table: string;

beforeAll(async () => {
  db = await startTemplateDynamoDb();
  table = db.tables.LedgerTable!;
});
afterAll(() => db.close());

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('should fail'),
    (error: unknown) => error as Error & Record<string, any>,
  );

describe('the local DynamoDB', () => {
  it('creates the template’s ledger table, ACTIVE at once, keyed by pk and sk, on demand', async () => {
    expect(table).toBe('helpcrunch-untag-local-ledger');
    expect(db.tableNames).toEqual([table]);
    const { Table } = await db.client.send(new DescribeTableCommand({ TableName: table }));
    expect(Table).toMatchObject({
      TableStatus: 'ACTIVE',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
    });
  });

  it('a conditional PutItem and UpdateItem round trip: the first write wins, an older one is refused', async () => {
    const key = { pk: { S: 'customer#1001' }, sk: { S: 'tag#Active' } };
    const put = () =>
      db.client.send(
        new PutItemCommand({
          TableName: table,
          Item: { ...key, eventTime: { N: '100' }, expiresAt: { N: '1900000000' } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    await put();
    expect(await failure(put())).toBeInstanceOf(ConditionalCheckFailedException);

    const update = (eventTime: number) =>
      db.client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: key,
          UpdateExpression: 'SET eventTime = :time',
          ConditionExpression: 'eventTime < :time',
          ExpressionAttributeValues: { ':time': { N: String(eventTime) } },
          ReturnValues: 'ALL_NEW',
        }),
      );
    expect((await update(200)).Attributes?.eventTime).toEqual({ N: '200' });
    const older = await failure(update(150));
    expect(older).toMatchObject({ name: 'ConditionalCheckFailedException', $metadata: { httpStatusCode: 400 } });

    const { Item } = await db.client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
    expect(Item?.eventTime).toEqual({ N: '200' });
    const { Items } = await db.client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :tag)',
        ExpressionAttributeValues: { ':pk': key.pk, ':tag': { S: 'tag#' } },
      }),
    );
    expect(Items?.map((item) => item.sk)).toEqual([key.sk]);
  });

  it('has no TTL, which is why the table is created without one (expired items stay until code skips them)', async () => {
    const error = await failure(
      db.client.send(
        new UpdateTimeToLiveCommand({
          TableName: table,
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        }),
      ),
    );
    expect(error).toMatchObject({ name: 'UnknownOperationException', $metadata: { httpStatusCode: 400 } });
  });

  it('is gone once closed', async () => {
    const other = await startDynamoDb();
    const client = localDynamoDbClient(other.url);
    await other.close();
    await expect(client.send(new DescribeTableCommand({ TableName: table }))).rejects.toThrow();
    client.destroy();
  });
});
