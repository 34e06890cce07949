/**
 * A local DynamoDB: dynalite (npm), DynamoDB's API over LevelDB, here in memory, on 127.0.0.1 for the
 * real AWS SDK (AWS_ENDPOINT_URL_DYNAMODB=<url>, any region, dummy credentials). The tables are
 * created through that API from their CloudFormation definitions (AWS::DynamoDB::Table
 * Properties, as serverless.yml writes them), ACTIVE at once (createTableMs 0).
 *
 * dynalite has no TTL (it refuses UpdateTimeToLive) and no point-in-time recovery, so a
 * definition's TimeToLiveSpecification and PointInTimeRecoverySpecification are left out: expired
 * items stay, which code must allow for anyway, since DynamoDB deletes them only eventually.
 */
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ScanCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { IncomingMessage } from 'node:http';
import { baseUrl, closerFor, listen } from './http-server';

/** The Properties of an AWS::DynamoDB::Table resource, as far as a local table needs them. */
export type TableDefinition = Pick<
  CreateTableCommandInput,
  | 'TableName'
  | 'AttributeDefinitions'
  | 'KeySchema'
  | 'BillingMode'
  | 'ProvisionedThroughput'
  | 'GlobalSecondaryIndexes'
  | 'LocalSecondaryIndexes'
>;

export interface DynamoDbOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Created in order. */
  tables?: readonly TableDefinition[];
}

export interface LocalDynamoDb {
  /** e.g. http://127.0.0.1:PORT — the value for AWS_ENDPOINT_URL_DYNAMODB. */
  readonly url: string;
  readonly port: number;
  /** The tables' names, in the order created. */
  readonly tableNames: readonly string[];
  /** Deletes every item of every table: what the ledger remembers, forgotten (rule test cases start afresh). */
  clear(): Promise<void>;
  /** Requests answered so far by operation (X-Amz-Target's, e.g. PutItem), table creation included. */
  requests(): Record<string, number>;
  close(): Promise<void>;
}

/** A client for the local endpoint, as the functions make one from their environment. */
export function localDynamoDbClient(url: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

/**
 * Deletes every item of the table, a Scan and BatchWriteItem at a time. Emptied rather than dropped
 * and created again: dynalite keeps a dropped table DELETING for a while, refusing to create it anew.
 */
export async function emptyTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const keys = (Table?.KeySchema ?? []).map(({ AttributeName }) => AttributeName!);
  const names = Object.fromEntries(keys.map((key, index) => [`#k${index}`, key]));
  const projection = { ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names };
  for (;;) {
    const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName, ...projection }));
    if (Items.length === 0) return;
    // Items a batch leaves unprocessed are still there for the next Scan.
    for (let start = 0; start < Items.length; start += 25) {
      const deletes = Items.slice(start, start + 25).map((Key) => ({ DeleteRequest: { Key } }));
      await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: deletes } }));
    }
  }
}

export async function startDynamoDb(options: DynamoDbOptions = {}): Promise<LocalDynamoDb> {
  const host = options.host ?? '127.0.0.1';
  const server = dynalite({ createTableMs: 0 });
  const requests: Record<string, number> = {};
  server.on('request', (req: IncomingMessage) => {
    // DynamoDB_20120810.PutItem -> PutItem
    const operation = String(req.headers['x-amz-target'] ?? 'unknown').replace(/^.*\./, '');
    requests[operation] = (requests[operation] ?? 0) + 1;
  });
  const port = await listen(server, host, options.port ?? 0);
  const url = baseUrl(host, port);
  const close = closerFor(server);
  const client = localDynamoDbClient(url);
  try {
    for (const table of options.tables ?? []) {
      const { TableName, AttributeDefinitions, KeySchema, BillingMode, ProvisionedThroughput } = table;
      const { GlobalSecondaryIndexes, LocalSecondaryIndexes } = table;
      await client.send(
        new CreateTableCommand({
          TableName,
          AttributeDefinitions,
          KeySchema,
          BillingMode,
          ProvisionedThroughput,
          GlobalSecondaryIndexes,
          LocalSecondaryIndexes,
        }),
      );
    }
  } catch (error) {
    await close();
    throw error;
  } finally {
    client.destroy();
  }
  const tableNames = (options.tables ?? []).map((table) => table.TableName!);
  async function clear(): Promise<void> {
    const client = localDynamoDbClient(url);
    try {
      for (const tableName of tableNames) await emptyTable(client, tableName);
    } finally {
      client.destroy();
    }
  }
  return { url, port, tableNames, clear, requests: () => ({ ...requests }), close };
}
