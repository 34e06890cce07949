import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RetryableError } from '../lib/errors';
import {
  RetryBudget,
  backoffDelay,
  defaultRetryPolicy,
  parseRetryAfter,
  withRetry,
  type RetryPolicy,
  type RetryVerdict,
} from '../lib/http/retry';

const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1_000 };

class Transient extends Error {
  constructor(readonly retryAfterMs?: number) {
    super('transient');
  }
}

const classify = (error: unknown): RetryVerdict =>
  error instanceof Transient
    ? { retryable: true, retryAfterMs: error.retryAfterMs, reason: 'HelpCrunch answered 429' }
    : { retryable: false };
const unavailable = { code: 'helpcrunch_unavailable', subject: 'HelpCrunch' };

/** An operation that fails `failures` times, recording when (fake time) each attempt started. */
function flaky(failures: number, makeError: () => unknown = () => new Transient()) {
  const startedAt: number[] = [];
  const operation = async (attempt: number) => {
    startedAt.push(Date.now());
    if (attempt <= failures) throw makeError();
    return `ok on ${attempt}`;
  };
  return { operation, startedAt };
}

const gaps = (times: number[]) => times.slice(1).map((time, index) => time - times[index]!);

/** Starts withRetry and drives fake timers until it settles. */
async function run<T>(promise: Promise<T>): Promise<{ result?: T; error?: unknown }> {
  const settled = promise.then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  await vi.runAllTimersAsync();
  return settled;
}

describe('backoffDelay', () => {
  it('grows exponentially up to the cap when jitter is at its top', () => {
    const delays = [0, 1, 2, 3, 4, 5].map((retry) => backoffDelay(retry, policy, undefined, () => 1));
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('spreads delays over the whole range (full jitter)', () => {
    expect(backoffDelay(3, policy, undefined, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, undefined, () => 0.5)).toBe(400);
  });

  it('never waits less than Retry-After, even beyond the cap', () => {
    expect(backoffDelay(0, policy, 700, () => 0)).toBe(700);
    expect(backoffDelay(0, policy, 5_000, () => 1)).toBe(5_000);
    expect(backoffDelay(4, policy, 10, () => 1)).toBe(1_000);
  });

  it('uses 5 attempts, 250 ms base and a 10 s cap by default', () => {
    expect(defaultRetryPolicy).toEqual({ maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 10_000 });
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter(' 0.5 ', now)).toBe(500);
    expect(parseRetryAfter('0', now)).toBe(0);
  });

  it('reads an HTTP-date relative to now', () => {
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:07 GMT', now)).toBe(7_000);
  });

  it('clamps negative seconds and past dates to 0', () => {
    expect(parseRetryAfter('-4', now)).toBe(0);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
  });

  it('returns undefined for a missing or unreadable value', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('RetryBudget', () => {
  it('counts down from the Lambda context minus the safety margin', () => {
    let clock = 1_000;
    const budget = RetryBudget.fromContext({ getRemainingTimeInMillis: () => 10_000 }, 1_500, () => clock);
    expect(budget.remainingMs()).toBe(8_500);
    clock += 8_000;
    expect(budget.remainingMs()).toBe(500);
    expect(budget.fits(100, 400)).toBe(true);
    expect(budget.fits(101, 400)).toBe(false);
    clock += 1_000;
    expect(budget.remainingMs()).toBe(0);
  });

  it('can be given an absolute deadline', () => {
    const budget = RetryBudget.until(5_000, () => 2_000);
    expect(budget.remainingMs()).toBe(3_000);
  });
});

describe('withRetry', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('returns the value and the number of attempts', async () => {
    const { operation } = flaky(2);
    const outcome = await run(
      withRetry(operation, { budget: RetryBudget.until(60_000), policy, classify, unavailable, attemptTimeoutMs: 100 }),
    );
    expect(outcome.result).toEqual({ value: 'ok on 3', attempts: 3 });
  });

  it('waits exponentially longer between attempts (jitter fixed at its top)', async () => {
    const { operation, startedAt } = flaky(4);
    await run(
      withRetry(operation, {
        budget: RetryBudget.until(60_000),
        policy,
        classify,
        unavailable,
        attemptTimeoutMs: 100,
        random: () => 1,
      }),
    );
    expect(gaps(startedAt)).toEqual([100, 200, 400, 800]);
  });

  it('draws each wait from the jittered range', async () => {
    const { operation, startedAt } = flaky(3);
    const draws = [0, 0.5, 0.25];
    await run(
      withRetry(operation, {
        budget: RetryBudget.until(60_000),
        policy,
        classify,
        unavailable,
        attemptTimeoutMs: 100,
        random: () => draws.shift()!,
      }),
    );
    expect(gaps(startedAt)).toEqual([0, 100, 100]);
  });

  it('waits at least Retry-After', async () => {
    const { operation, startedAt } = flaky(1, () => new Transient(3_000));
    await run(
      withRetry(operation, {
        budget: RetryBudget.until(60_000),
        policy,
        classify,
        unavailable,
        attemptTimeoutMs: 100,
        random: () => 0,
      }),
    );
    expect(gaps(startedAt)).toEqual([3_000]);
  });

  it('never sleeps past the budget and gives up with the wait it wanted', async () => {
    const budgetMs = 1_000;
    const { operation, startedAt } = flaky(Infinity);
    const { error } = await run(
      withRetry(operation, {
        budget: RetryBudget.until(budgetMs),
        policy: { maxAttempts: 50, baseDelayMs: 100, maxDelayMs: 10_000 },
        classify,
        unavailable,
        attemptTimeoutMs: 100,
        random: () => 1,
      }),
    );
    // Waits 100, 200, 400 (t=700); the next wait of 800 plus an attempt would end at 1600.
    expect(startedAt).toEqual([0, 100, 300, 700]);
    expect(Date.now()).toBeLessThanOrEqual(budgetMs);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({
      message: 'HelpCrunch answered 429 on 4 attempts; time budget exhausted',
      retryAfterMs: 800,
      code: 'helpcrunch_unavailable',
    });
  });

  it('gives up at once when Retry-After exceeds what is left', async () => {
    const { operation, startedAt } = flaky(Infinity, () => new Transient(30_000));
    const { error } = await run(
      withRetry(operation, { budget: RetryBudget.until(10_000), policy, classify, unavailable, attemptTimeoutMs: 100 }),
    );
    expect(startedAt).toEqual([0]);
    expect(error).toMatchObject({
      retryAfterMs: 30_000,
      message: 'HelpCrunch answered 429 on 1 attempt; time budget exhausted',
    });
  });

  it('does not start an attempt that cannot finish inside the budget', async () => {
    const operation = vi.fn(async () => 'never');
    const { error } = await run(
      withRetry(operation, { budget: RetryBudget.until(50), policy, classify, unavailable, attemptTimeoutMs: 100 }),
    );
    expect(operation).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(RetryableError);
  });

  it('gives up with the code and subject the caller names, whether or not an attempt was made', async () => {
    const queue = { code: 'queue_unavailable', subject: 'The jobs queue' };
    const tooLate = await run(
      withRetry(vi.fn(), { budget: RetryBudget.until(50), classify, unavailable: queue, attemptTimeoutMs: 100 }),
    );
    expect(tooLate.error).toMatchObject({
      code: 'queue_unavailable',
      message: 'The jobs queue: time budget exhausted before the first attempt',
    });
    const { operation } = flaky(Infinity);
    const exhausted = await run(
      withRetry(operation, {
        budget: RetryBudget.until(600_000),
        policy: { ...policy, maxAttempts: 2 },
        classify,
        unavailable: queue,
        attemptTimeoutMs: 100,
      }),
    );
    expect(exhausted.error).toMatchObject({ code: 'queue_unavailable' });
  });

  it('starts an attempt with less than a full timeout left, cutting its timeout to the budget', async () => {
    const timeouts: number[] = [];
    const operation = async (_attempt: number, timeoutMs: number) => {
      timeouts.push(timeoutMs);
      return 'ok';
    };
    await run(
      withRetry(operation, {
        budget: RetryBudget.until(2_000),
        policy,
        classify,
        unavailable,
        attemptTimeoutMs: 5_000,
      }),
    );
    expect(timeouts).toEqual([2_000]);
  });

  it('does not retry when less than the minimum useful attempt time would be left after the wait', async () => {
    const { operation, startedAt } = flaky(Infinity, () => new Transient(1_500));
    const { error } = await run(
      withRetry(operation, {
        budget: RetryBudget.until(2_000),
        policy,
        classify,
        unavailable,
        attemptTimeoutMs: 5_000,
        minAttemptMs: 1_000,
      }),
    );
    expect(startedAt).toEqual([0]);
    expect(error).toMatchObject({ retryAfterMs: 1_500 });
  });

  it('stops after maxAttempts', async () => {
    const { operation, startedAt } = flaky(Infinity);
    const { error } = await run(
      withRetry(operation, {
        budget: RetryBudget.until(600_000),
        policy: { ...policy, maxAttempts: 3 },
        classify,
        unavailable,
        attemptTimeoutMs: 100,
      }),
    );
    expect(startedAt).toHaveLength(3);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toBe('HelpCrunch answered 429 on 3 attempts; attempt limit reached');
  });

  it('rethrows a non-retryable error unchanged, without retrying', async () => {
    const fatal = new TypeError('bad request');
    const { operation, startedAt } = flaky(Infinity, () => fatal);
    const { error } = await run(
      withRetry(operation, { budget: RetryBudget.until(60_000), policy, classify, unavailable, attemptTimeoutMs: 100 }),
    );
    expect(error).toBe(fatal);
    expect(startedAt).toHaveLength(1);
  });

  it('uses an injected sleep instead of timers', async () => {
    vi.useRealTimers();
    const slept: number[] = [];
    const { operation } = flaky(2);
    const { attempts } = await withRetry(operation, {
      budget: RetryBudget.until(Date.now() + 60_000),
      policy,
      classify,
      unavailable,
      attemptTimeoutMs: 100,
      random: () => 1,
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    expect(attempts).toBe(3);
    expect(slept).toEqual([100, 200]);
  });
});
