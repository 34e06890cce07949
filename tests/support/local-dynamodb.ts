/** The local DynamoDB (local/sandbox/dynamodb.ts) with serverless.yml's tables, and an SDK client for it. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { readTableDefinitions } from '../../local/host/serverless-config';
import { localDynamoDbClient, startDynamoDb, type LocalDynamoDb } from '../../local/sandbox/dynamodb';

export interface TemplateDynamoDb extends LocalDynamoDb {
  /** As the functions reach it with AWS_ENDPOINT_URL_DYNAMODB; destroyed by close(). */
  client: DynamoDBClient;
  /** Logical id (e.g. LedgerTable) -> table name (what LEDGER_TABLE holds). */
  tables: Record<string, string>;
}

export async function startTemplateDynamoDb(): Promise<TemplateDynamoDb> {
  const definitions = readTableDefinitions();
  const dynamoDb = await startDynamoDb({ tables: Object.values(definitions) });
  const client = localDynamoDbClient(dynamoDb.url);
  return {
    ...dynamoDb,
    client,
    tables: Object.fromEntries(Object.entries(definitions).map(([id, { TableName }]) => [id, TableName!])),
    close: async () => {
      client.destroy();
      await dynamoDb.close();
    },
  };
}
