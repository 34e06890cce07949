/**
 * Per HelpCrunch customer: which event last decided each tag, and a lease that lets one unit at a
 * time decide and change that customer's tags. One item per customer (`customer#<id>`), so taking
 * the lease also reads the decisions (one UpdateItem), and giving it back records the new ones
 * (one UpdateItem, conditional on still holding it).
 *
 * The lease closes the window between reading a decision and HelpCrunch receiving the change: two
 * events for one customer (two references to one person, two concurrent inline requests) are
 * applied one after the other, never interleaved. It runs until the holder's invocation ends plus a
 * margin, so a holder that dies only delays that customer until then, and one that outlives it
 * finds its release refused (lease_lost) and is retried, never recording over a newer holder.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { RetryableError } from '../errors';
import { callSignal, type LedgerTableOptions, ledgerFailure } from './dynamodb';
import { digest } from '../digest';
import { expiresAtSeconds, KEY_ATTRIBUTES } from './keys';

/** The event that decided a tag: newer events win, older ones are stale for that tag. */
export interface TagDecision {
  /** When the event occurred, ms since the epoch. */
  occurredAt: number;
  /** The deciding unit's digest (event and customer reference): the same unit deciding again is a duplicate. */
  unitKey: string;
  /** For operators' log lines: the event id as the sender gave it (trimmed) and its source. */
  eventId: string;
  source: string;
}

export interface CustomerLease {
  /** The decisions recorded so far for the tags asked about, by tag name. */
  decisions: Map<string, TagDecision>;
  /** Records `decided` (by tag name) and gives the lease back; throws lease_lost when it ran out meanwhile. */
  release(decided: Map<string, TagDecision>, budget: { remainingMs(): number }): Promise<void>;
}

export type LeaseResult = { lease: CustomerLease } | { busyForMs: number };

export interface CustomerLedger {
  /** The customer's lease and the decisions for `tags`, or how long another holder keeps it. */
  acquire(customerId: number, tags: string[], budget: { remainingMs(): number }): Promise<LeaseResult>;
}

export interface CustomerLedgerOptions extends LedgerTableOptions {
  /** Added to the holder's remaining budget: what a request already sent may still take to land. */
  leaseMarginMs?: number;
}

/** A customer's decisions are kept this long after the last one: backfills of year-old exports still meet them. */
const DECISION_DAYS = 400;
// Trimmed copies for operators: a sender's id or a tag name can be long, a log line should not be.
const SHOWN_LENGTH = 200;

const { partition, sort, expiresAt } = KEY_ATTRIBUTES;
const keyOf = (customerId: number) => marshall({ [partition]: `customer#${customerId}`, [sort]: 'tags' });
const tagKey = (tag: string) => digest(tag);

interface StoredDecision {
  t: number;
  e: string;
  i: string;
  s: string;
  n: string;
}

function decisionsOf(item: Record<string, unknown> | undefined, tags: string[]): Map<string, TagDecision> {
  const stored = (item?.tags ?? {}) as Record<string, StoredDecision>;
  const decisions = new Map<string, TagDecision>();
  for (const tag of tags) {
    const key = tagKey(tag);
    const found = Object.hasOwn(stored, key) ? stored[key] : undefined;
    if (found) decisions.set(tag, { occurredAt: found.t, unitKey: found.e, eventId: found.i, source: found.s });
  }
  return decisions;
}

export function createCustomerLedger(options: CustomerLedgerOptions): CustomerLedger {
  const { client, tableName, now = () => Date.now(), leaseMarginMs = 10_000 } = options;

  async function heldFor(customerId: number, budget: { remainingMs(): number }): Promise<number> {
    try {
      const { Item } = await client.send(
        new GetItemCommand({ TableName: tableName, Key: keyOf(customerId), ConsistentRead: true }),
        { abortSignal: callSignal(budget) },
      );
      const until = Item ? (unmarshall(Item).leaseUntil as number | undefined) : undefined;
      // Given back between the two calls: try again at once.
      return Math.max(1, (until ?? 0) - now());
    } catch (error) {
      throw ledgerFailure('GetItem', error);
    }
  }

  function lease(customerId: number, holder: string, decisions: Map<string, TagDecision>): CustomerLease {
    return {
      decisions,
      async release(decided, budget) {
        const names: Record<string, string> = { '#by': 'leaseBy', '#until': 'leaseUntil', '#exp': expiresAt };
        const values: Record<string, unknown> = { ':me': holder, ':exp': expiresAtSeconds(now(), DECISION_DAYS) };
        const sets = ['#exp = :exp'];
        [...decided].forEach(([tag, decision], index) => {
          names[`#t${index}`] = tagKey(tag);
          values[`:t${index}`] = {
            t: decision.occurredAt,
            e: decision.unitKey,
            i: decision.eventId.slice(0, SHOWN_LENGTH),
            s: decision.source.slice(0, SHOWN_LENGTH),
            n: tag.slice(0, SHOWN_LENGTH),
          } satisfies StoredDecision;
          sets.push(`#tags.#t${index} = :t${index}`);
        });
        try {
          await client.send(
            new UpdateItemCommand({
              TableName: tableName,
              Key: keyOf(customerId),
              UpdateExpression: `SET ${sets.join(', ')} REMOVE #by, #until`,
              ConditionExpression: '#by = :me',
              ExpressionAttributeNames: { ...names, ...(decided.size > 0 && { '#tags': 'tags' }) },
              ExpressionAttributeValues: marshall(values),
            }),
            { abortSignal: callSignal(budget) },
          );
        } catch (error) {
          if (error instanceof ConditionalCheckFailedException) {
            throw new RetryableError(
              `The lease on HelpCrunch customer ${customerId} ran out before its tags were recorded`,
              1_000,
              'lease_lost',
            );
          }
          throw ledgerFailure('UpdateItem', error);
        }
      },
    };
  }

  return {
    async acquire(customerId, tags, budget) {
      const holder = randomUUID();
      const at = now();
      try {
        const { Attributes } = await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: keyOf(customerId),
            UpdateExpression: 'SET #by = :me, #until = :until, #exp = :exp, #tags = if_not_exists(#tags, :none)',
            ConditionExpression: 'attribute_not_exists(#until) OR #until < :now',
            ExpressionAttributeNames: { '#by': 'leaseBy', '#until': 'leaseUntil', '#exp': expiresAt, '#tags': 'tags' },
            ExpressionAttributeValues: marshall({
              ':me': holder,
              ':until': at + budget.remainingMs() + leaseMarginMs,
              ':now': at,
              ':exp': expiresAtSeconds(at, DECISION_DAYS),
              ':none': {},
            }),
            ReturnValues: 'ALL_NEW',
          }),
          { abortSignal: callSignal(budget) },
        );
        return { lease: lease(customerId, holder, decisionsOf(Attributes && unmarshall(Attributes), tags)) };
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return { busyForMs: await heldFor(customerId, budget) };
        throw ledgerFailure('UpdateItem', error);
      }
    },
  };
}
