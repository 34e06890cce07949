/**
 * The one retry policy of every outbound call (HelpCrunch, the lookups' vendor APIs, the jobs
 * queue): exponential backoff with full jitter, Retry-After as a floor, and a time budget it never
 * sleeps past — a Lambda that is killed mid-sleep answers nobody, so giving up early with a
 * RetryableError is always better.
 */
import { RetryableError } from '../errors';

/** The time an invocation may still spend on outbound calls. */
export class RetryBudget {
  private constructor(
    private readonly deadlineEpochMs: number,
    private readonly now: () => number,
  ) {}

  /** Lambda's remaining time minus a margin kept back so the function can still answer. */
  static fromContext(
    context: { getRemainingTimeInMillis(): number },
    safetyMarginMs: number,
    now: () => number = () => Date.now(),
  ): RetryBudget {
    return new RetryBudget(now() + context.getRemainingTimeInMillis() - safetyMarginMs, now);
  }

  static until(deadlineEpochMs: number, now: () => number = () => Date.now()): RetryBudget {
    return new RetryBudget(deadlineEpochMs, now);
  }

  remainingMs(): number {
    return Math.max(0, this.deadlineEpochMs - this.now());
  }

  /** Whether waiting `waitMs` and then one attempt of up to `attemptMs` still ends inside the budget. */
  fits(waitMs: number, attemptMs: number): boolean {
    return waitMs + attemptMs <= this.remainingMs();
  }
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 10_000 };

/**
 * One attempt and no backoff of its own, for the queue worker: a retry is the message coming back
 * after its visibility backoff, so a RetryableError's retryAfterMs is exactly the server's
 * Retry-After (0 without one).
 */
export const singleAttempt: RetryPolicy = { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

/**
 * Wait before retry number `retry` (0 for the first retry): full jitter over
 * min(cap, base * 2^retry). A Retry-After is a floor even beyond the cap; the budget decides
 * whether such a wait is affordable.
 */
export function backoffDelay(
  retry: number,
  policy: RetryPolicy,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.max(retryAfterMs ?? 0, Math.round(random() * ceiling));
}

/** A Retry-After header (delta-seconds or HTTP-date) in ms; unreadable -> undefined, past -> 0. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Math.max(0, Math.round(Number(text) * 1000));
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

export type RetryVerdict =
  | { retryable: false }
  /** `reason` names the failure in the final error, e.g. "HelpCrunch answered 429". */
  | { retryable: true; retryAfterMs?: number; reason?: string };

/** A failure worth another attempt (a 429, a 5xx, a timeout); only withRetry sees it, and turns the last one into a RetryableError. */
export class TransientFailure extends Error {
  constructor(
    readonly reason: string,
    readonly retryAfterMs?: number,
  ) {
    super(reason);
  }
}

/** The classifier of HTTP clients: TransientFailure is retried, anything else rethrown unchanged. */
export const retryTransient = (error: unknown): RetryVerdict =>
  error instanceof TransientFailure
    ? { retryable: true, retryAfterMs: error.retryAfterMs, reason: error.reason }
    : { retryable: false };

export interface RetryOptions {
  budget: RetryBudget;
  policy?: RetryPolicy;
  classify: (error: unknown) => RetryVerdict;
  /**
   * What is unavailable when retrying stops: the give-up RetryableError's code (e.g.
   * helpcrunch_unavailable) and the name its message starts with when not even one attempt fits.
   */
  unavailable: { code: string; subject: string };
  /** The longest one attempt may take (the request timeout); each attempt gets at most what the budget has left. */
  attemptTimeoutMs: number;
  /** The least time worth starting an attempt with; default min(attemptTimeoutMs, 1000). */
  minAttemptMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

// Looked up at call time so fake timers replace it.
const sleepWithTimer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `operation` (attempts numbered from 1) until it succeeds, fails non-retryably (rethrown
 * unchanged), or retrying is no longer possible (RetryableError carrying the wait it wanted).
 */
export async function withRetry<T>(
  operation: (attempt: number, timeoutMs: number) => Promise<T>,
  options: RetryOptions,
): Promise<{ value: T; attempts: number }> {
  const { budget, classify, attemptTimeoutMs, unavailable, policy = defaultRetryPolicy } = options;
  const { sleep = sleepWithTimer, random = Math.random } = options;
  // A request usually answers in well under its timeout, so an attempt needs only a useful
  // slice of the budget to start; its timeout is then cut so it cannot outrun the budget.
  const minAttemptMs = options.minAttemptMs ?? Math.min(attemptTimeoutMs, 1000);
  if (!budget.fits(0, minAttemptMs)) {
    throw new RetryableError(
      `${unavailable.subject}: time budget exhausted before the first attempt`,
      undefined,
      unavailable.code,
    );
  }
  for (let attempt = 1; ; attempt++) {
    try {
      const timeoutMs = Math.min(attemptTimeoutMs, budget.remainingMs());
      return { value: await operation(attempt, timeoutMs), attempts: attempt };
    } catch (error) {
      const verdict = classify(error);
      if (!verdict.retryable) throw error;
      const delayMs = backoffDelay(attempt - 1, policy, verdict.retryAfterMs, random);
      const failed = `${verdict.reason ?? 'Operation failed'} on ${attempt} attempt${attempt === 1 ? '' : 's'}`;
      if (attempt >= policy.maxAttempts)
        throw new RetryableError(`${failed}; attempt limit reached`, delayMs, unavailable.code);
      if (!budget.fits(delayMs, minAttemptMs))
        throw new RetryableError(`${failed}; time budget exhausted`, delayMs, unavailable.code);
      await sleep(delayMs);
    }
  }
}
