/** The shapes the HelpCrunch sandbox and its page (inspector.ts) share: faults, the rate limit, the request log. */

export interface Faults {
  /** Probability (0..1) of answering 429 too_many_requests regardless of the real rate limit. */
  rate429: number;
  /** Probability (0..1) of answering 500 internal_error. */
  rate5xx: number;
  /** Delay before every request is handled. */
  latencyMs: number;
  /** Probability (0..1) of destroying the socket without a reply. */
  dropRate: number;
  /** Retry-After seconds sent with injected 429s, or 'none' for no header. */
  retryAfter: 'none' | number;
}

export interface RateLimit {
  requests: number;
  windowMs: number;
}

export interface RequestRecord {
  method: string;
  /** Path without the query string. */
  path: string;
  /** HTTP status, or 0 when the connection closed without a reply (dropped or aborted). */
  status: number;
  /** Arrival time from `now()`. */
  at: number;
  /** Wall-clock handling time. */
  ms: number;
  /** A PUT's or DELETE's tag names, when its body was valid. */
  tags?: string[];
}

export interface SandboxStats {
  total: number;
  byStatus: Record<number, number>;
  /** Most requests (any outcome) that arrived within one rate-limit window, sliding. */
  maxPerWindow: number;
}
