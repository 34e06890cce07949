import { createHmac } from 'node:crypto';
import { ConfigError, WebhookAuthError } from '../errors';
import { secretAndTolerance } from './options';
import { anyDigestEqual, readUnixTime, requireFreshTimestamp, requireHeader, type WebhookRequest } from './request';
import { defineScheme } from './scheme';

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

/** HMAC-SHA256 over `${id}.${timestamp}.${body}`, `v1,<base64>` entries. */
function verifyStandardWebhook(toleranceSeconds: number, request: WebhookRequest, secret: string, nowMs: number): void {
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

/**
 * The Standard Webhooks spec (also Svix: Clerk, Resend, …). Its event fields:
 * - id: `webhook-id` (or Svix's `svix-id`), which "remains the same no matter how many times a
 *   webhook that has failed is retried" (spec, "Webhook metadata").
 * - time: not `webhook-timestamp`. That is the delivery attempt's time, which the spec says "is
 *   updated" on every retry (it is what the replay window checks): a retried older event would
 *   look newer than one delivered since. The spec's recommended payload carries `timestamp`, "the
 *   timestamp of when the event occurred (not necessarily the same of when it was delivered)"
 *   (ISO 8601 in the spec's example; Clerk sends milliseconds), so that is the default.
 * - type: the recommended payload's `type`.
 */
export const standardWebhooks = defineScheme({
  name: 'standard-webhooks',
  docs: 'https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md',
  options: secretAndTolerance(300),
  event: {
    type: { field: 'type' },
    id: { header: ['webhook-id', 'svix-id'] },
    occurredAt: { field: 'timestamp' },
  },
  verify: (config, request, secret, nowMs) => verifyStandardWebhook(config.toleranceSeconds, request, secret, nowMs),
  sign(_config, secret, body, { nowMs, id, headerPrefix = 'webhook' }) {
    const seconds = String(Math.floor(nowMs / 1000));
    return {
      headers: {
        [`${headerPrefix}-id`]: id,
        [`${headerPrefix}-timestamp`]: seconds,
        [`${headerPrefix}-signature`]: `v1,${standardWebhooksSignature(secret, id, seconds, body)}`,
      },
    };
  },
  signInShell: (_config, secret) => ({
    variables: '; id=msg_local_$ts',
    signed: '$id.$ts.$body',
    key: standardWebhooksKey(secret),
    output: 'base64',
    headers: { 'webhook-id': '$id', 'webhook-timestamp': '$ts', 'webhook-signature': 'v1,$sig' },
  }),
  // Secrets are whsec_<base64 of the key>.
  secretFromText: (text) => `whsec_${Buffer.from(text).toString('base64')}`,
});
