/**
 * A ledger per test: the local DynamoDB (dynalite, local/sandbox/dynamodb.ts) started once per test
 * file, and a new table shaped as serverless.yml's LedgerTable for each ledger asked for, so the
 * decisions and duplicates of one test never reach another.
 */
import { type AttributeValue, CreateTableCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll } from 'vitest';
import { createLedger, type Ledger } from '../../lib/ledger';
import { readTableDefinitions } from '../../local/host/serverless-config';
import { emptyTable } from '../../local/sandbox/dynamodb';
import { startTemplateDynamoDb, type TemplateDynamoDb } from './local-dynamodb';

let started: Promise<TemplateDynamoDb> | undefined;
let tables = 0;

afterAll(async () => {
  const running = await started;
  started = undefined;
  await running?.close();
});

/** The local DynamoDB of this test file, with serverless.yml's tables, started on first use. */
export const localDynamoDb = (): Promise<TemplateDynamoDb> => (started ??= startTemplateDynamoDb());

async function createLedgerTable(name: string): Promise<void> {
  const { client } = await localDynamoDb();
  const { AttributeDefinitions, KeySchema, BillingMode } = readTableDefinitions().LedgerTable!;
  await client.send(new CreateTableCommand({ TableName: name, AttributeDefinitions, KeySchema, BillingMode }));
}

/** A new, empty ledger table shaped as the template's; its name, for functions given LEDGER_TABLE. */
export async function freshLedgerTable(): Promise<string> {
  const name = `ledger-${++tables}`;
  await createLedgerTable(name);
  return name;
}

/** A ledger over a new, empty table. */
export async function freshLedger(options: { now?: () => number } = {}): Promise<Ledger> {
  const { client } = await localDynamoDb();
  return createLedger({ tableName: await freshLedgerTable(), dedupDays: 7, client, ...options });
}

/** What a ledger table holds (one page of a Scan: plenty for a test): to show nothing was written. */
export async function ledgerItems(tableName: string): Promise<Record<string, AttributeValue>[]> {
  const { client } = await localDynamoDb();
  return (await client.send(new ScanCommand({ TableName: tableName }))).Items ?? [];
}

export interface LocalLedger {
  tableName: string;
  /** Empties the table: for a function whose runtime keeps the table's name. */
  reset(): Promise<void>;
}

/**
 * For functions under test: the local DynamoDB as theirs (AWS_ENDPOINT_URL_DYNAMODB) and a ledger
 * table (LEDGER_TABLE), set before the function module is imported; restored after the file.
 */
export async function useLocalLedger(): Promise<LocalLedger> {
  const { url, client } = await localDynamoDb();
  const tableName = await freshLedgerTable();
  const previous = {
    AWS_ENDPOINT_URL_DYNAMODB: process.env.AWS_ENDPOINT_URL_DYNAMODB,
    LEDGER_TABLE: process.env.LEDGER_TABLE,
  };
  process.env.AWS_ENDPOINT_URL_DYNAMODB = url;
  process.env.LEDGER_TABLE = tableName;
  afterAll(() => {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  return {
    tableName,
    reset: () => emptyTable(client, tableName),
  };
}
