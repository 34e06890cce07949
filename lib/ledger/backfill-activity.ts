/**
 * Whether a backfill is running, and at which share of HelpCrunch's rate: one item
 * (`backfill#active`) the backfill worker refreshes while it drains, and the live worker reads to
 * yield that share (lib/queue/rate-share.ts). It runs out by itself `until` a while after the last
 * refresh, so a backfill that ends or dies gives the live worker its whole rate back.
 */
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { callSignal, type LedgerTableOptions, ledgerFailure } from './dynamodb';
import { expiresAtSeconds, KEY_ATTRIBUTES } from './keys';

export interface BackfillActivity {
  /** The share of the rate a running backfill takes; 0 when none runs. */
  share(budget: { remainingMs(): number }): Promise<number>;
  /**
   * Marks a backfill running at `share` for `forMs` from now; resolves with when this spell of
   * activity began (ms), which is now unless it was still running.
   */
  announce(share: number, forMs: number, budget: { remainingMs(): number }): Promise<{ since: number }>;
}

const { partition, sort, expiresAt } = KEY_ATTRIBUTES;
const KEY = marshall({ [partition]: 'backfill#active', [sort]: 'active' });
/** Kept a day past its end for operators to see; readers go by `until`, never by the TTL. */
const KEPT_DAYS = 1;

export function createBackfillActivity({
  client,
  tableName,
  now = () => Date.now(),
}: LedgerTableOptions): BackfillActivity {
  return {
    async share(budget) {
      try {
        const { Item } = await client.send(new GetItemCommand({ TableName: tableName, Key: KEY }), {
          abortSignal: callSignal(budget),
        });
        const item = Item && unmarshall(Item);
        return item && Number(item.until) > now() ? Number(item.share) : 0;
      } catch (error) {
        throw ledgerFailure('GetItem', error);
      }
    },
    async announce(share, forMs, budget) {
      const at = now();
      const fields = { until: at + forMs, share, [expiresAt]: expiresAtSeconds(at + forMs, KEPT_DAYS) };
      try {
        // Still running: extend it, keeping when it began.
        const { Attributes } = await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: KEY,
            UpdateExpression: 'SET #until = :until, #share = :share, #exp = :exp',
            ConditionExpression: '#until >= :now',
            ExpressionAttributeNames: { '#until': 'until', '#share': 'share', '#exp': expiresAt },
            ExpressionAttributeValues: marshall({
              ':until': fields.until,
              ':share': share,
              ':exp': fields[expiresAt],
              ':now': at,
            }),
            ReturnValues: 'ALL_NEW',
          }),
          { abortSignal: callSignal(budget) },
        );
        return { since: Number(unmarshall(Attributes!).since) };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw ledgerFailure('UpdateItem', error);
      }
      // Absent or run out: a new spell begins now.
      try {
        await client.send(
          new PutItemCommand({ TableName: tableName, Item: marshall({ ...unmarshall(KEY), ...fields, since: at }) }),
          { abortSignal: callSignal(budget) },
        );
        return { since: at };
      } catch (error) {
        throw ledgerFailure('PutItem', error);
      }
    },
  };
}
