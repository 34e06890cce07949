/**
 * The ledger's DynamoDB client and how its failures read. Every call is bounded (the SDK's own
 * connection and request timeouts, and an abort at the caller's budget), so a DynamoDB that
 * accepts the connection and never answers cannot hold an invocation: the ledger fails closed,
 * and nothing is changed in HelpCrunch that the ledger did not check.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConfigError, RetryableError, type UntagError } from '../errors';
import { WarmAgent } from '../http/warm-connection';

/** What each part of the ledger is made of: the client, the table, and its clock (for expiry). */
export interface LedgerTableOptions {
  client: DynamoDBClient;
  tableName: string;
  now?: () => number;
}

/** The longest one ledger call may take (less when the caller's budget has less left). */
const LEDGER_CALL_TIMEOUT_MS = 3_000;

/** Configured by the Lambda environment (region, credentials, AWS_ENDPOINT_URL_DYNAMODB locally). */
export function createDynamoDbClient(): DynamoDBClient {
  return new DynamoDBClient({
    // The SDK's own pool settings, on an agent that takes the connection opened at init (lib/warm-connection.ts).
    requestHandler: {
      httpsAgent: new WarmAgent({ keepAlive: true, maxSockets: 50 }),
      connectionTimeout: 1_000,
      requestTimeout: 2_000,
      throwOnRequestTimeout: true,
    },
    // One retry of the SDK's own: the caller's retry is the sender's or the queue's.
    maxAttempts: 2,
  });
}

// Client faults that pass by themselves; every other client fault needs an operator.
const throttling = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'LimitExceededException',
]);

/**
 * A DynamoDB failure as a typed error: ConfigError when the request itself was refused (no such
 * table, denied access), RetryableError when DynamoDB or the network may recover. Only the
 * error's name is kept: SDK messages can carry account ids and table ARNs.
 */
export function ledgerFailure(action: string, error: unknown): UntagError {
  if (error instanceof RetryableError || error instanceof ConfigError) return error;
  const name = error instanceof Error ? error.name : 'UnknownError';
  const fault = (error as { $fault?: unknown } | null)?.$fault;
  if (fault === 'client' && !throttling.has(name)) {
    return new ConfigError(`The ledger refused ${action} (${name})`, 'ledger_misconfigured');
  }
  const timedOut = name === 'AbortError' || name === 'TimeoutError';
  const why = timedOut ? 'did not answer in time' : `failed (${name})`;
  return new RetryableError(`The ledger is unavailable: ${action} ${why}`, 1_000, 'ledger_unavailable');
}

/** How long one ledger call may take: its own timeout, or less when the caller's budget has less. */
const callMs = (budget: { remainingMs(): number }) =>
  Math.max(1, Math.min(LEDGER_CALL_TIMEOUT_MS, budget.remainingMs()));

/** An abort signal for one ledger call, after callMs. */
export function callSignal(budget: { remainingMs(): number }): AbortSignal {
  return AbortSignal.timeout(callMs(budget));
}

/** Rejects with ledger_unavailable unless `promise` settles within the call timeout (for calls that take no signal). */
export async function bounded<T>(action: string, budget: { remainingMs(): number }, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const ms = callMs(budget);
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(ledgerFailure(action, Object.assign(new Error(), { name: 'TimeoutError' }))), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
