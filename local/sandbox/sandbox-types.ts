/** The shapes the HelpCrunch sandbox and its page (inspector.ts) share: faults, the rate limit, the request log. */
import type { IncomingHttpHeaders } from 'node:http';

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

/** One request as the page lists it. */
export interface RequestLine {
  method: string;
  /** Path without the query string. */
  path: string;
  /** HTTP status, or 0 when the connection closed without a whole reply (dropped, aborted, cut short). */
  status: number;
  /** Present while the request is still unanswered (its status then 0). */
  pending?: true;
  /** Arrival time from `now()`. */
  at: number;
  /** Wall-clock handling time. */
  ms: number;
  /** A PUT's or DELETE's tag names, when its body was valid. */
  tags?: string[];
}

/** One request as tests see it: the line, and what the page leaves out (the headers carry the API key). */
export interface RequestRecord extends RequestLine {
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON, else its text ('' when empty); undefined when over RECORDED_BODY_BYTES. */
  body: unknown;
  /** The client's port: equal ports mean one reused (keep-alive) connection. */
  remotePort: number | undefined;
}

export interface SandboxStats {
  total: number;
  byStatus: Record<number, number>;
  /** Most requests (any outcome) that arrived within one rate-limit window, sliding. */
  maxPerWindow: number;
}
