/** Requests for lib/webhook-auth and the checks every scheme's tests share. */
import { expect } from 'vitest';
import { WebhookAuthError } from '../../lib/errors';
import type { VerifyConfig } from '../../lib/rules/types';
import { verifyWebhook, type WebhookRequest } from '../../lib/webhook-auth';

/** A POST with these headers (names lower-cased, as lib/http-event.ts delivers them). */
export function webhookRequest(
  headers: Record<string, string>,
  rawBody: string | Buffer,
  url?: string,
): WebhookRequest {
  const lowerCased = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return { method: 'POST', url, headers: lowerCased, rawBody: Buffer.from(rawBody) };
}

/** The error verifyWebhook throws, for asserting its type, code and message. */
export function failure(...args: Parameters<typeof verifyWebhook>): unknown {
  try {
    verifyWebhook(...args);
  } catch (error) {
    return error;
  }
  throw new Error('verifyWebhook accepted the request');
}

/** A WebhookAuthError with `code` whose message contains none of `mustNotContain` (secrets, signatures). */
export function expectAuthError(error: unknown, code: string, ...mustNotContain: string[]): void {
  expect(error).toBeInstanceOf(WebhookAuthError);
  expect((error as WebhookAuthError).code).toBe(code);
  for (const text of mustNotContain) expect((error as Error).message).not.toContain(text);
}

/** The body with one byte changed: a signature over the original must no longer hold. */
export function tampered(body: string | Buffer): Buffer {
  const bytes = Buffer.from(body);
  bytes[bytes.length >> 1] ^= 0x01;
  return bytes;
}

/** One config of every scheme that takes a secret (the generic hmac twice: hex with a prefix, base64), secretId `s/<scheme>`. */
export const SECRET_SCHEMES: Exclude<VerifyConfig, { scheme: 'none' }>[] = [
  {
    scheme: 'hmac',
    algorithm: 'sha256',
    header: 'X-Signature',
    prefix: 'sha256=',
    encoding: 'hex',
    secretId: 's/hmac-hex',
  },
  { scheme: 'hmac', algorithm: 'sha1', header: 'X-Hub', encoding: 'base64', secretId: 's/hmac-b64' },
  { scheme: 'stripe', secretId: 's/stripe', toleranceSeconds: 300 },
  { scheme: 'calendly', secretId: 's/calendly', toleranceSeconds: 180 },
  { scheme: 'paddle', secretId: 's/paddle', toleranceSeconds: 5 },
  { scheme: 'hubspot-v3', secretId: 's/hubspot', toleranceSeconds: 300 },
  { scheme: 'helpcrunch', secretId: 's/helpcrunch' },
  { scheme: 'github', secretId: 's/github' },
  { scheme: 'shopify', secretId: 's/shopify' },
  { scheme: 'standard-webhooks', secretId: 's/standard', toleranceSeconds: 300 },
  { scheme: 'token', header: 'X-Token', secretId: 's/token' },
  { scheme: 'basic', secretId: 's/basic' },
];
