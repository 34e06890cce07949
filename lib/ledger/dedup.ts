/**
 * Which units of work (one event's jobs for one customer reference) were already applied: Powertools
 * idempotency's DynamoDB persistence layer, used through its public record API rather than
 * makeIdempotent, because one invocation handles several units and a cap on the customers they
 * name is checked across all of them before any is written. A unit is started (an INPROGRESS
 * record, a conditional PutItem that fails when a live record exists), then finished with its
 * outcomes (COMPLETED, kept `dedupDays`) or abandoned (deleted, so a retry starts afresh). An
 * INPROGRESS record whose holder died expires with the holder's invocation. Expiry is checked in
 * the condition, not left to DynamoDB's TTL sweep, which may lag by days.
 */
import {
  IdempotencyConfig,
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
  IdempotencyRecordStatus,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Outcome } from '../types';
import { bounded, ledgerFailure } from './dynamodb';
import { KEY_ATTRIBUTES } from './keys';

/** What identifies a unit: the event (source and id) and the customer reference, as given by the sender. */
export interface UnitKey {
  source: string;
  eventId: string;
  customer: string;
}

export type UnitStart =
  | { state: 'started' }
  /** Applied before: the outcomes it had then. */
  | { state: 'done'; outcomes: Outcome[] }
  /** Another invocation is applying it right now. */
  | { state: 'in_progress' };

export interface UnitLedger {
  start(unit: UnitKey, budget: { remainingMs(): number }): Promise<UnitStart>;
  finish(unit: UnitKey, outcomes: Outcome[], budget: { remainingMs(): number }): Promise<void>;
  abandon(unit: UnitKey, budget: { remainingMs(): number }): Promise<void>;
}

export interface UnitLedgerOptions {
  client: DynamoDBClient;
  tableName: string;
  dedupDays: number;
  /** Kept past the holder's budget before an INPROGRESS record may be taken over. */
  inProgressMarginMs?: number;
}

/** Every unit record shares one partition (a few writes a second at most), the unit's hash as sort key. */
const PARTITION = 'units';

export function createUnitLedger({
  client,
  tableName,
  dedupDays,
  inProgressMarginMs = 10_000,
}: UnitLedgerOptions): UnitLedger {
  const store = new DynamoDBPersistenceLayer({
    tableName,
    awsSdkV3Client: client,
    keyAttr: KEY_ATTRIBUTES.partition,
    sortKeyAttr: KEY_ATTRIBUTES.sort,
    staticPkValue: PARTITION,
    expiryAttr: KEY_ATTRIBUTES.expiresAt,
    inProgressExpiryAttr: 'inProgressUntil',
    statusAttr: 'status',
    dataAttr: 'outcomes',
    validationKeyAttr: 'validation',
  });
  // The same prefix in every function, so a unit applied inline is a duplicate for the worker too.
  store.configure({ config: new IdempotencyConfig({ expiresAfterSeconds: dedupDays * 86_400 }), keyPrefix: 'unit' });
  const data = ({ source, eventId, customer }: UnitKey) => ({ source, eventId, customer });

  async function existing(unit: UnitKey, error: IdempotencyItemAlreadyExistsError, budget: { remainingMs(): number }) {
    // DynamoDB returns the item that failed the condition; some implementations do not.
    try {
      return error.existingRecord ?? (await bounded('GetItem', budget, store.getRecord(data(unit))));
    } catch (cause) {
      // Gone between the two calls (abandoned): the caller tries again later.
      if (cause instanceof IdempotencyItemNotFoundError) return undefined;
      throw ledgerFailure('GetItem', cause);
    }
  }

  return {
    async start(unit, budget) {
      try {
        await bounded('PutItem', budget, store.saveInProgress(data(unit), budget.remainingMs() + inProgressMarginMs));
        return { state: 'started' };
      } catch (error) {
        if (!(error instanceof IdempotencyItemAlreadyExistsError)) throw ledgerFailure('PutItem', error);
        const record = await existing(unit, error, budget);
        if (record?.getStatus() === IdempotencyRecordStatus.COMPLETED) {
          return { state: 'done', outcomes: (record.getResponse() as Outcome[] | undefined) ?? [] };
        }
        return { state: 'in_progress' };
      }
    },
    async finish(unit, outcomes, budget) {
      try {
        await bounded('UpdateItem', budget, store.saveSuccess(data(unit), outcomes as never));
      } catch (error) {
        throw ledgerFailure('UpdateItem', error);
      }
    },
    async abandon(unit, budget) {
      try {
        await bounded('DeleteItem', budget, store.deleteRecord(data(unit)));
      } catch (error) {
        throw ledgerFailure('DeleteItem', error);
      }
    },
  };
}
