/** What the lookup tests share: a recording secret source, a fake clock with its sleep, a resolver on both, the vendor APIs' stand-in. */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createLookupResolver, type LookupResolverOptions } from '../../lib/lookups/resolver';
import { RetryBudget, type RetryPolicy } from '../../lib/http/retry';
import type { LookupConfig } from '../../lib/rules/types';
import { startVendorApis, type VendorApis } from '../../local/sandbox/vendor-apis';

/** Serves `values` in turn for every read (the last one repeats) and records how it was asked. */
export function secretSource(...values: string[]) {
  const reads: { secretId: string; forceRefresh: boolean }[] = [];
  return {
    reads,
    async get(secretId: string, options?: { forceRefresh?: boolean }) {
      reads.push({ secretId, forceRefresh: options?.forceRefresh === true });
      return values[Math.min(reads.length - 1, values.length - 1)]!;
    },
  };
}

/** A clock that only moves when the retry loop sleeps: backoff is asserted on, never waited for. */
export function fakeClock(start = 1_700_000_000_000) {
  const clock = {
    ms: start,
    now: () => clock.ms,
    slept: [] as number[],
    sleep: async (ms: number) => {
      clock.slept.push(ms);
      clock.ms += ms;
    },
    budget: (ms = 30_000) => ({ budget: RetryBudget.until(clock.ms + ms, clock.now) }),
  };
  return clock;
}

// Tiny jitter ceilings; Retry-After floors still show in `slept`.
export const fastPolicy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 100 };

export function resolverFor(
  lookups: Record<string, LookupConfig>,
  secrets: LookupResolverOptions['secrets'],
  clock: ReturnType<typeof fakeClock>,
  options: Partial<LookupResolverOptions> = {},
) {
  return createLookupResolver({
    lookups,
    secrets,
    now: clock.now,
    sleep: clock.sleep,
    retryPolicy: fastPolicy,
    random: () => 1,
    ...options,
  });
}

/** The rejection of `promise`, failing the test if it resolves. */
export async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { code?: string; requests?: number; retryAfterMs?: number }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the lookup to fail');
}

/**
 * The vendor APIs' stand-in for the enclosing describe block, reset after each test; `origin` is its
 * base URL. A generic lookup's API, which none of its vendors speaks, answers only as scripted
 * (`api.vendors.script('*', …)`).
 */
export function useVendorApis() {
  const api = {} as { vendors: VendorApis; origin: string };
  beforeAll(async () => {
    api.vendors = await startVendorApis();
    api.origin = api.vendors.url;
  });
  afterEach(() => api.vendors.reset());
  afterAll(() => api.vendors.close());
  return api;
}
