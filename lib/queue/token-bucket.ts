/**
 * A token bucket: `take()` resolves once a token is free, so callers proceed at most
 * `ratePerSecond` times per second on average and at most `capacity` at once after an idle spell.
 * The worker keeps one per container, at its share of the account's rate (see runtime.ts), and
 * every HelpCrunch request takes a token. The rate can change while it runs (a backfill's share of
 * it, lib/queue/rate-share.ts), and the bucket can be held shut until a given moment.
 */
export interface TokenBucketOptions {
  ratePerSecond: number;
  /** The largest burst. 1 (the default) spaces requests evenly, which a sliding-window limit needs. */
  capacity?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Whole milliseconds on a timer, the sub-millisecond rest by yielding to the event loop: timers
 * fire a millisecond or so late, and at benchmark rates (tens to hundreds of requests a second)
 * that lateness alone would cost a visible share of the rate. Looked up at call time so fake
 * timers replace them.
 */
const sleepWithTimer = (ms: number) =>
  new Promise<void>((resolve) => (ms >= 1 ? setTimeout(resolve, Math.floor(ms)) : setImmediate(resolve)));

export class TokenBucket {
  private ratePerMs: number;
  private readonly capacity: number;
  /** No token before this moment (ms on `now`'s clock). */
  private heldUntil = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private tokens: number;
  private updatedAt: number;
  /** Takers queue up here, so concurrent callers never spend the same token. */
  private tail: Promise<void> = Promise.resolve();

  constructor(options: TokenBucketOptions) {
    const { ratePerSecond, capacity = 1, now = () => Date.now(), sleep = sleepWithTimer } = options;
    if (!(ratePerSecond > 0)) throw new RangeError('ratePerSecond must be > 0');
    if (!(capacity >= 1)) throw new RangeError('capacity must be >= 1');
    this.ratePerMs = ratePerSecond / 1000;
    this.capacity = capacity;
    this.now = now;
    this.sleep = sleep;
    this.tokens = capacity;
    this.updatedAt = now();
  }

  /** Time until a token is free (0 when one is), in fractional ms. */
  private msUntilToken(): number {
    this.refill();
    const held = this.heldForMs();
    return Math.max(held, this.tokens >= 1 ? 0 : (1 - this.tokens) / this.ratePerMs);
  }

  /** Tokens from now on come at `ratePerSecond`; those already earned stay. */
  setRate(ratePerSecond: number): void {
    if (!(ratePerSecond > 0)) throw new RangeError('ratePerSecond must be > 0');
    this.refill();
    this.ratePerMs = ratePerSecond / 1000;
  }

  /** The time between two tokens at the current rate, in ms. */
  intervalMs(): number {
    return 1 / this.ratePerMs;
  }

  /** Grants no token before `at` (on `now`'s clock); a later hold replaces an earlier one. */
  holdUntil(at: number): void {
    this.heldUntil = at;
  }

  /** How long the bucket is still held shut, in ms (0 when it is not). */
  heldForMs(): number {
    return Math.max(0, this.heldUntil - this.now());
  }

  take(): Promise<void> {
    const turn = this.tail.then(async () => {
      for (let wait = this.msUntilToken(); wait > 0; wait = this.msUntilToken()) await this.sleep(wait);
      this.tokens -= 1;
    });
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.updatedAt) * this.ratePerMs);
    this.updatedAt = now;
  }
}
