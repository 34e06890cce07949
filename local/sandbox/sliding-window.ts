/**
 * Timestamps inside a moving window of `windowMs`, oldest first. A stamp taken at t counts
 * while now < t + windowMs. Push and eviction are amortised O(1), so a benchmark's thousands
 * of requests per window cost no more than an array of numbers.
 */
export class SlidingWindow {
  private stamps: number[] = [];
  private head = 0;

  constructor(readonly windowMs: number) {}

  /** Forgets stamps that left the window ending at `now` and returns how many remain. */
  count(now: number): number {
    const cutoff = now - this.windowMs;
    while (this.head < this.stamps.length && this.stamps[this.head]! <= cutoff) this.head++;
    // Compact only when the dead prefix dominates, so eviction stays amortised O(1).
    if (this.head > 1024 && this.head * 2 > this.stamps.length) {
      this.stamps = this.stamps.slice(this.head);
      this.head = 0;
    }
    return this.stamps.length - this.head;
  }

  add(now: number): void {
    this.stamps.push(now);
  }

  /** Milliseconds from `now` until the oldest stamp leaves the window (0 when empty). */
  msUntilOldestExpires(now: number): number {
    this.count(now);
    const oldest = this.stamps[this.head];
    return oldest === undefined ? 0 : oldest + this.windowMs - now;
  }

  clear(): void {
    this.stamps = [];
    this.head = 0;
  }
}
