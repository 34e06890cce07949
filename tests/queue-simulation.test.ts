/**
 * Zero loss under faults: 500 jobs through the real queue path (enqueueUnits, two worker
 * runtimes with their paced single-attempt clients, the ledger on the local DynamoDB, and backoff)
 * against the HelpCrunch sandbox with
 * 20% injected 429s, 5% 5xx and 2% dropped connections, SQS played by the in-memory model
 * (visibility timeouts, receive counts, redrive to the dead-letter queue) and Lambda's poller.
 *
 * Time-scaled so it runs in seconds: the sandbox allows 600 requests per 1 s window, the worker
 * is set to 95% of that, and one SQS second (backoffs, Retry-After) lasts 1 ms. 600/s is below
 * what the worker could send unpaced, so staying under the limit is the pacing's doing.
 */
import { describe, expect, it } from 'vitest';
import { runQueueDrain, type QueueDrainResult } from '../bench/queue-drain';

const JOBS = 500;
// Every 50th job names no customer and every 50th (offset) one whose tags are already gone (bench/queue-drain.ts).
const UNTAGGABLE = JOBS - 2 * (JOBS / 50);
const MALFORMED = 5;
const LIMIT_PER_SECOND = 600;

describe('queue path under HelpCrunch faults', () => {
  let result: QueueDrainResult;

  it('drains 500 jobs with 20% 429s, 5% 5xx and 2% dropped connections', async () => {
    result = await runQueueDrain({
      jobs: JOBS,
      limitPerSecond: LIMIT_PER_SECOND,
      windowMs: 1000,
      rateShare: 0.95,
      msPerSecond: 1,
      malformed: MALFORMED,
      faults: { rate429: 0.2, rate5xx: 0.05, dropRate: 0.02, retryAfter: 1 },
      timeoutMs: 60_000,
    });
    // The faults were really on: about a fifth of all requests were answered 429, and retries happened.
    expect(result.share429).toBeGreaterThan(0.15);
    expect(result.share429).toBeLessThan(0.25);
    expect(result.requests).toBeGreaterThan(1.25 * 1.1 * JOBS);
  }, 60_000);

  it('loses nothing: every job is untagged, skipped for a stated reason, or dead-lettered with a reason', () => {
    expect(result.lost).toBe(0);
    const total = Object.values(result.outcomes).reduce((sum, n) => sum + n, 0);
    expect(total).toBe(JOBS + MALFORMED);
    // duplicate_event: one SQS second lasts 1 ms here while the work does not, so a slow batch can
    // outlive its visibility timeout and be handed out again; the ledger makes that delivery a duplicate.
    for (const state of Object.keys(result.outcomes)) {
      expect(state).toMatch(
        /^(untagged|skipped:(customer_not_found|tags_absent|duplicate_event)|dead-letter:[a-z_]+)$/,
      );
    }
    expect(result.deadLetteredWithoutReason).toBe(0);
    expect(result.outcomes['dead-letter:invalid_message']).toBe(MALFORMED);
    // Jobs that are untagged really are: no customer reported untagged still has the tags.
    expect(result.untaggedButStillTagged).toBe(0);
    // Almost everything got through within 8 receives; the rest is in the dead-letter queue, counted above.
    expect(result.outcomes.untagged).toBeGreaterThan(0.95 * UNTAGGABLE);
  });

  it('never sends HelpCrunch more requests per window than its limit', () => {
    expect(result.limitPerWindow).toBe(LIMIT_PER_SECOND);
    expect(result.maxPerWindow).toBeLessThanOrEqual(result.limitPerWindow);
  });
});
