/**
 * Live events first: how the live worker and the backfill worker share HelpCrunch's rate. A
 * backfill's messages wait in their own queue, drained by the backfill worker at `share` of the
 * rate (the share travels in each message); while it drains, it keeps a marker in the ledger
 * (lib/ledger/backfill-activity.ts) and the live worker paces at the rest, `1 − share`. Together
 * they stay within the rate:
 *   - the live worker reads the marker before a message whenever its last reading is `refreshMs`
 *     old, so `refreshMs` after a backfill begins no live instance paces at its full rate any more;
 *   - the backfill worker therefore sends nothing until `refreshMs` after the spell of activity
 *     began, and refreshes the marker while it works;
 *   - the marker runs out ACTIVE_REFRESHES × `refreshMs` after the last refresh: a backfill that
 *     ends or dies gives the live worker its whole rate back within that.
 * A live event waits only behind other live events, at half the rate by default.
 */
import type { BackfillActivity } from '../ledger/backfill-activity';
import type { JobMessage } from './job-message';
import type { TokenBucket } from './token-bucket';

/** The share a backfill takes unless it says otherwise (`--rate-share`). */
export const DEFAULT_RATE_SHARE = 0.5;

/** How many refreshes the marker outlives: a few missed ones (a slow batch) do not end it. */
const ACTIVE_REFRESHES = 8;

export interface Pacer {
  /** Sets the bucket's rate for `message`; throws a ledger error when the share cannot be settled. */
  pace(message: JobMessage, budget: { remainingMs(): number }): Promise<void>;
}

export interface PacerOptions {
  bucket: TokenBucket;
  /** This instance's whole rate (its part of the account's), per second. */
  ratePerSecond: number;
  activity: BackfillActivity;
  refreshMs: number;
  now?: () => number;
}

/** The live worker: its whole rate, less the share of a running backfill. */
export function livePacer({ bucket, ratePerSecond, activity, refreshMs, now = () => Date.now() }: PacerOptions): Pacer {
  let share = 0;
  let readAt = Number.NEGATIVE_INFINITY;
  return {
    async pace(_message, budget) {
      if (now() - readAt >= refreshMs) {
        // Unreadable now: keep the last share known (the unit itself will meet the ledger's trouble).
        share = await activity.share(budget).catch(() => share);
        readAt = now();
      }
      bucket.setRate(ratePerSecond * (1 - share));
    },
  };
}

/** The backfill worker: each message's share of the rate, announced to the live worker before it is used. */
export function backfillPacer({
  bucket,
  ratePerSecond,
  activity,
  refreshMs,
  now = () => Date.now(),
}: PacerOptions): Pacer {
  let announced: { share: number; at: number } | undefined;
  return {
    async pace(message, budget) {
      const share = message.run?.share ?? DEFAULT_RATE_SHARE;
      bucket.setRate(ratePerSecond * share);
      if (announced && announced.share === share && now() - announced.at < refreshMs) return;
      const { since } = await activity.announce(share, ACTIVE_REFRESHES * refreshMs, budget);
      announced = { share, at: now() };
      bucket.holdUntil(since + refreshMs);
    },
  };
}
