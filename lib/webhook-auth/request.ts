import { createHash, timingSafeEqual } from 'node:crypto';
import { WebhookAuthError } from '../errors';

/** What a verifier needs from the HTTP request: header names lower-cased, the body exactly as received. */
export interface WebhookRequest {
  method: string;
  /** The URL the sender called (see HttpRequest.url); schemes that sign it need it. */
  url: string | undefined;
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
