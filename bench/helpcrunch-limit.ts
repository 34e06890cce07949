import { DEFAULT_RATE_LIMIT, type RateLimit } from '../local/sandbox/helpcrunch-sandbox';

/**
 * HelpCrunch's limit (120 requests in any minute) sped up to allow `limitPerSecond`: the window
 * shrinks by the factor the rate grows, so at 20/s it is 120 requests in any 6 s. A 1 s window of
 * 20 would be six times tighter than HelpCrunch's for the same rate: there a few milliseconds of
 * arrival jitter across ten requests already overfill it, which a minute-long window never sees.
 */
export function scaledHelpCrunchLimit(limitPerSecond: number): RateLimit {
  const { requests } = DEFAULT_RATE_LIMIT;
  return { requests, windowMs: (requests / limitPerSecond) * 1000 };
}

/** "120 in any 6 s": a limit as the reports print it. */
export const limitText = ({ requests, windowMs }: RateLimit) => `${requests} in any ${windowMs / 1000} s`;
