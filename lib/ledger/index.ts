/**
 * The ledger: what the functions remember in DynamoDB so that tags end where the newest event puts
 * them, whatever the delivery order, duplicates and retries (README: Delivery guarantees).
 *   units      which units of work (an event's jobs for one customer reference) were applied
 *   customers  per customer and tag, the newest event that decided it, and a lease to change it
 *   attempts   how often the worker really tried a unit (FIFO receive counts overcount)
 *   runs       what the workers finished of each backfill run, for the backfill CLI's progress
 *   backfill   whether a backfill runs now, and at which share of the rate (live first)
 * One table (serverless.yml LedgerTable), only GetItem, PutItem, UpdateItem and DeleteItem with
 * condition expressions; the TTL is set in the template, never by the functions.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type AttemptLedger, createAttemptLedger } from './attempts';
import { type BackfillActivity, createBackfillActivity } from './backfill-activity';
import { type CustomerLedger, createCustomerLedger } from './customers';
import { createUnitLedger, type UnitLedger } from './dedup';
import { createDynamoDbClient } from './dynamodb';
import { createRunLedger, type RunLedger } from './runs';

export type { TagDecision } from './customers';

export interface Ledger {
  units: UnitLedger;
  customers: CustomerLedger;
  attempts: AttemptLedger;
  runs: RunLedger;
  backfill: BackfillActivity;
}

export interface LedgerOptions {
  tableName: string;
  /** How long an applied unit is remembered as such (DEDUP_DAYS). */
  dedupDays: number;
  client?: DynamoDBClient;
  now?: () => number;
}

export function createLedger({ tableName, dedupDays, client = createDynamoDbClient(), now }: LedgerOptions): Ledger {
  return {
    units: createUnitLedger({ client, tableName, dedupDays }),
    customers: createCustomerLedger({ client, tableName, now }),
    attempts: createAttemptLedger({ client, tableName, now }),
    runs: createRunLedger({ client, tableName, now }),
    backfill: createBackfillActivity({ client, tableName, now }),
  };
}
