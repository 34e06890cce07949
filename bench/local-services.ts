/**
 * HelpCrunch, Secrets Manager and DynamoDB (the ledger's table as serverless.yml defines it) on
 * loopback (local/sandbox), and the environment that points a handler at them the way
 * serverless.yml points it at the real ones.
 */
import { readTableDefinitions } from '../local/host/serverless-config';
import { startDynamoDb, type LocalDynamoDb } from '../local/sandbox/dynamodb';
import {
  startHelpCrunchSandbox,
  type HelpCrunchSandbox,
  type RateLimit,
  type SandboxCustomer,
} from '../local/sandbox/helpcrunch-sandbox';
import { startSecretsManagerEndpoint, type SecretsManagerEndpoint } from '../local/sandbox/secrets-manager-endpoint';
import { SIGNING_SECRET_ID } from './events';

export const API_KEY_SECRET_ID = 'helpcrunch-untag/api-key';
export const SIGNING_SECRET = 'bench-crm-signing-secret';
const API_KEY = 'bench-helpcrunch-api-key';

/** A limit no benchmark reaches: parts 2 and 4 measure work, not throttling. */
export const UNLIMITED: RateLimit = { requests: Number.MAX_SAFE_INTEGER, windowMs: 1000 };

export interface LocalServices {
  sandbox: HelpCrunchSandbox;
  secrets: SecretsManagerEndpoint;
  /** The ledger's table; its requests() count what the functions asked of it. */
  dynamoDb: LocalDynamoDb;
  /** Variables for a handler process or container. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface LocalServicesOptions {
  rateLimit?: RateLimit;
  /** The sandbox's customers; default the demo customers. */
  customers?: readonly SandboxCustomer[];
}

export async function startLocalServices({
  rateLimit = UNLIMITED,
  customers,
}: LocalServicesOptions = {}): Promise<LocalServices> {
  // A big request log only costs memory here; the benchmark counts through stats and onRequest.
  const sandbox = await startHelpCrunchSandbox({ apiKey: API_KEY, rateLimit, requestLogSize: 100, customers });
  const secrets = await startSecretsManagerEndpoint({
    secrets: { [API_KEY_SECRET_ID]: JSON.stringify({ apiKey: API_KEY }), [SIGNING_SECRET_ID]: SIGNING_SECRET },
  });
  const ledgerTable = readTableDefinitions().LedgerTable;
  if (!ledgerTable) throw new Error('serverless.yml must define LedgerTable');
  const dynamoDb = await startDynamoDb({ tables: [ledgerTable] });
  return {
    sandbox,
    secrets,
    dynamoDb,
    env: {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoDb.url,
      LEDGER_TABLE: ledgerTable.TableName!,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench-access-key',
      AWS_SECRET_ACCESS_KEY: 'bench-secret-key',
      HELPCRUNCH_API_URL: sandbox.url,
      HELPCRUNCH_API_KEY_SECRET_ID: API_KEY_SECRET_ID,
      SECRET_CACHE_TTL_SECONDS: '300',
      POWERTOOLS_SERVICE_NAME: 'helpcrunch-untag',
      POWERTOOLS_METRICS_NAMESPACE: 'HelpCrunchUntag',
      // Only for bench/reference/bare-axios.ts, which has no secret cache.
      BENCH_HELPCRUNCH_API_KEY: API_KEY,
    },
    async close() {
      await sandbox.close();
      await secrets.close();
      await dynamoDb.close();
    },
  };
}
