/**
 * A ledger per test: dynalite (DynamoDB's API, in memory) started once per test file, and a new
 * table for each ledger asked for, so decisions and duplicates of one test never reach another.
 */
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { afterAll } from 'vitest';
import { createLedger, type Ledger } from '../../lib/ledger';

interface Dynalite {
  url: string;
  client: DynamoDBClient;
  close(): Promise<void>;
}

let started: Promise<Dynalite> | undefined;
let tables = 0;

async function start(): Promise<Dynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return { url, client, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

afterAll(async () => {
  const running = await started;
  started = undefined;
  await running?.close();
});

/** The dynalite of this test file, started on first use. */
export const localDynamoDb = (): Promise<Dynalite> => (started ??= start());

/** A new, empty ledger table; its name, for functions given LEDGER_TABLE. */
export async function freshLedgerTable(): Promise<string> {
  const { client } = await localDynamoDb();
  const name = `ledger-${++tables}`;
  await createLedgerTable(client, name);
  return name;
}

async function createLedgerTable(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
}

/** A ledger over a new, empty table. */
export async function freshLedger(options: { now?: () => number } = {}): Promise<Ledger> {
  const { client } = await localDynamoDb();
  return createLedger({ tableName: await freshLedgerTable(), dedupDays: 7, client, ...options });
}

export interface LocalLedger {
  tableName: string;
  /** Empties the table (dropped and created again): for a function whose runtime keeps the table's name. */
  reset(): Promise<void>;
}

/**
 * For functions under test: dynalite as their DynamoDB (AWS_ENDPOINT_URL_DYNAMODB) and a ledger
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
    async reset() {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      await createLedgerTable(client, tableName);
    },
  };
}
