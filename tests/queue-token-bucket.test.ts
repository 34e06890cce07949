/** The worker's token bucket, on an injected clock: rate, burst, and concurrent takers. */
import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../lib/queue/token-bucket';

function clocked(ratePerSecond: number, capacity?: number) {
  let now = 0;
  const sleeps: number[] = [];
  const bucket = new TokenBucket({
    ratePerSecond,
    capacity,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  });
  const takeAt = async () => {
    await bucket.take();
    return now;
  };
  return { bucket, sleeps, takeAt, advance: (ms: number) => (now += ms), now: () => now };
}

describe('TokenBucket', () => {
  it('grants the first token at once, then one per 1/rate', async () => {
    const { takeAt } = clocked(2);
    const times = [await takeAt(), await takeAt(), await takeAt()];
    expect(times).toEqual([0, 500, 1000]);
  });

  it('with the default capacity of 1, an idle spell buys no burst', async () => {
    const { takeAt, advance } = clocked(2);
    await takeAt();
    advance(10_000);
    expect([await takeAt(), await takeAt()]).toEqual([10_000, 10_500]);
  });

  it('a larger capacity allows that many at once after an idle spell, then the rate', async () => {
    const { takeAt, advance } = clocked(2, 3);
    for (let i = 0; i < 3; i++) await takeAt();
    advance(10_000);
    const times = [];
    for (let i = 0; i < 5; i++) times.push(await takeAt());
    expect(times).toEqual([10_000, 10_000, 10_000, 10_500, 11_000]);
  });

  it('queues concurrent takers, so no token is spent twice', async () => {
    const { takeAt } = clocked(4);
    const times = await Promise.all([takeAt(), takeAt(), takeAt(), takeAt()]);
    expect(times).toEqual([0, 250, 500, 750]);
  });

  it('waits only for the missing fraction of a token', async () => {
    const { takeAt, sleeps, advance } = clocked(10);
    await takeAt();
    advance(60);
    await takeAt();
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeCloseTo(40, 6);
  });

  it('never lets more than capacity + rate × window through any window', async () => {
    const { takeAt, advance } = clocked(5, 2);
    const times: number[] = [];
    for (let i = 0; i < 40; i++) {
      if (i % 7 === 0) advance(900); // idle spells refill the bucket
      times.push(await takeAt());
    }
    for (const start of times) {
      expect(times.filter((t) => t >= start && t < start + 1000).length).toBeLessThanOrEqual(2 + 5);
    }
  });

  it('rejects a rate or capacity that cannot pace anything', () => {
    expect(() => new TokenBucket({ ratePerSecond: 0 })).toThrow(RangeError);
    expect(() => new TokenBucket({ ratePerSecond: 1, capacity: 0.5 })).toThrow(RangeError);
  });
});
