import { createHash, timingSafeEqual } from 'node:crypto';
import { WebhookAuthError } from '../errors';

/** What a verifier needs from the HTTP request: header names lower-cased, the body exactly as received. */
export interface WebhookRequest {
  method: string;
  /** The URL the sender called (see HttpRequest.url); schemes that sign it need it. */
  url: string | undefined;
  /** The query string as sent, without `?`; a `token` source may read its secret from it. */
  query?: string;
  headers: Record<string, string>;
  rawBody: Buffer;
}

/** The header's value, or a 401 `missing_signature` naming it. `name` may be any case. */
export function requireHeader(request: WebhookRequest, name: string): string {
  const key = name.toLowerCase();
  // hasOwn: a header named e.g. "constructor" must not resolve to an Object.prototype member
  const value = Object.hasOwn(request.headers, key) ? request.headers[key] : undefined;
  if (!value) throw new WebhookAuthError(`Missing header '${key}'`, 'missing_signature');
  return value;
}

/**
 * Constant-time equality. Both sides are hashed first so inputs of any length compare
 * in equal-length buffers: timingSafeEqual neither throws nor reveals the expected length.
 */
export function safeEqual(received: string | Buffer, expected: string | Buffer): boolean {
  const digest = (value: string | Buffer) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(received), digest(expected));
}

/**
 * Constant-time equality of a received signature with the one computed: the computed digest's
 * length is public (its algorithm and encoding fix it), so a length mismatch may return at once,
 * and equal lengths compare directly, without safeEqual's two extra hashes per request.
 */
export function digestEqual(received: string, expected: string): boolean {
  const a = Buffer.from(received);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Whether any received signature matches (senders list several while a secret is rotated). Every
 * one is compared, so the time taken does not tell which matched.
 */
export function anyDigestEqual(received: string[], expected: string): boolean {
  return received.map((signature) => digestEqual(signature, expected)).includes(true);
}

/** Digits only and at most 15 of them, so Number() is exact; anything else is a malformed header. */
const UNIX_TIME = /^\d{1,15}$/;

/** A timestamp from a signature header (seconds or ms, as the scheme says), or a 401 `invalid_signature`. */
export function readUnixTime(text: string, what: string): number {
  if (!UNIX_TIME.test(text)) throw new WebhookAuthError(`${what} is not a unix timestamp`);
  return Number(text);
}

/**
 * Replay protection: a 401 `timestamp_out_of_tolerance` when the signed time is more than
 * `toleranceSeconds` away from our clock, in either direction (a future time is as suspect as an old one).
 */
export function requireFreshTimestamp(
  timestampMs: number,
  nowMs: number,
  toleranceSeconds: number,
  what: string,
): void {
  if (Math.abs(nowMs - timestampMs) > toleranceSeconds * 1000) {
    throw new WebhookAuthError(
      `${what} is more than ${toleranceSeconds}s from the current time`,
      'timestamp_out_of_tolerance',
    );
  }
}
