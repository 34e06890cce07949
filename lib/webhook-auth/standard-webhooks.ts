import { createHmac } from 'node:crypto';
import { ConfigError, WebhookAuthError } from '../errors';
import { anyDigestEqual, readUnixTime, requireFreshTimestamp, requireHeader, type WebhookRequest } from './request';

/**
 * The header names: the spec's `webhook-*`, or `svix-*`, which Svix (Clerk, Resend, …) sends
 * unless its customer white-labels them. A request carrying any `webhook-*` header is read with
 * those names only, so the two sets are never mixed.
 */
export type StandardWebhooksPrefix = 'webhook' | 'svix';

function headerPrefix(request: WebhookRequest): StandardWebhooksPrefix {
  const carries = (prefix: StandardWebhooksPrefix) =>
    ['id', 'timestamp', 'signature'].some((name) => Object.hasOwn(request.headers, `${prefix}-${name}`));
  return carries('svix') && !carries('webhook') ? 'svix' : 'webhook';
}

/** `whsec_<base64>` (or bare base64) -> HMAC key bytes. */
export function standardWebhooksKey(secret: string): Buffer {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  if (key.length === 0) throw new ConfigError('Standard Webhooks secret is not base64 (whsec_<base64>)');
  return key;
}

/** The base64 signature of `${id}.${timestamp}.${body}`. */
export function standardWebhooksSignature(
  secret: string,
  id: string,
  timestamp: string,
  body: string | Buffer,
): string {
  return createHmac('sha256', standardWebhooksKey(secret)).update(`${id}.${timestamp}.`).update(body).digest('base64');
}

/** https://www.standardwebhooks.com/ : HMAC-SHA256 over `${id}.${timestamp}.${body}`, `v1,<base64>` entries. */
export function verifyStandardWebhook(
  toleranceSeconds: number,
  request: WebhookRequest,
  secret: string,
  nowMs: number,
): void {
  const prefix = headerPrefix(request);
  const id = requireHeader(request, `${prefix}-id`);
  const timestamp = requireHeader(request, `${prefix}-timestamp`);
  const signatures = requireHeader(request, `${prefix}-signature`);

  const what = `Header '${prefix}-timestamp'`;
  requireFreshTimestamp(readUnixTime(timestamp, what) * 1000, nowMs, toleranceSeconds, what);

  const expected = standardWebhooksSignature(secret, id, timestamp, request.rawBody);
  // Several entries allow key rotation; versions other than v1 are for future schemes and ignored.
  const v1Signatures = signatures.split(' ').flatMap((entry) => {
    const [version, signature = ''] = entry.split(',', 2);
    return version === 'v1' ? [signature] : [];
  });
  if (!anyDigestEqual(v1Signatures, expected))
    throw new WebhookAuthError(`Signature in header '${prefix}-signature' does not match`);
}
