import { createHmac } from 'node:crypto';
import { WebhookAuthError } from '../errors';
import type { HmacAlgorithm } from '../rules/types';
import { digestEqual, requireHeader, type WebhookRequest } from './request';

/** Where and how an HMAC of the raw body travels: what the generic `hmac` scheme configures. */
export interface HmacFormat {
  algorithm: HmacAlgorithm;
  /** Matched case-insensitively. */
  header: string;
  /** Text before the digest, e.g. "sha256=". */
  prefix?: string;
  encoding: 'hex' | 'base64';
}

/** The vendors whose scheme is a plain HMAC of the body, by scheme name. */
export const HMAC_PRESETS = {
  /** docs.github.com "Validating webhook deliveries". */
  github: { algorithm: 'sha256', header: 'X-Hub-Signature-256', prefix: 'sha256=', encoding: 'hex' },
  /** shopify.dev "Verify webhooks": base64, keyed with the app's client secret. */
  shopify: { algorithm: 'sha256', header: 'X-Shopify-Hmac-Sha256', encoding: 'base64' },
  /** docs.helpcrunch.com "How to verify HelpCrunch webhook signatures": 40 hex characters. */
  helpcrunch: { algorithm: 'sha1', header: 'X-HelpCrunch-Signature', encoding: 'hex' },
} as const satisfies Record<string, HmacFormat>;

/** `<prefix><digest>`: the header value a sender puts on `body`. */
export function hmacSignature(format: HmacFormat, secret: string, body: string | Buffer): string {
  return `${format.prefix ?? ''}${createHmac(format.algorithm, secret).update(body).digest(format.encoding)}`;
}

/** `<prefix><digest>` where digest = HMAC-<algorithm>(secret, raw body) in hex (any case) or base64. */
export function verifyHmac(format: HmacFormat, request: WebhookRequest, secret: string): void {
  const header = requireHeader(request, format.header).trim();
  const prefix = format.prefix ?? '';
  const received = header.startsWith(prefix) ? header.slice(prefix.length) : undefined;
  const normalised = format.encoding === 'hex' ? received?.toLowerCase() : received;
  const expected = hmacSignature({ ...format, prefix: '' }, secret, request.rawBody);
  if (normalised === undefined || !digestEqual(normalised, expected)) {
    throw new WebhookAuthError(`Signature in header '${format.header.toLowerCase()}' does not match`);
  }
}
