import { createHmac } from 'node:crypto';
import { ConfigError, WebhookAuthError } from '../errors';
import { requireHeader, safeEqual, type WebhookRequest } from './request';

/** Spec default: reject messages more than 5 minutes older or newer than our clock (replay window). */
const TOLERANCE_SECONDS = 5 * 60;

/** `whsec_<base64>` (or bare base64) -> HMAC key bytes. */
function signingKey(secret: string): Buffer {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  if (key.length === 0) throw new ConfigError('Standard Webhooks secret is not base64 (whsec_<base64>)');
  return key;
}

/** https://www.standardwebhooks.com/ : HMAC-SHA256 over `${id}.${timestamp}.${body}`, `v1,<base64>` entries. */
export function verifyStandardWebhook(request: WebhookRequest, secret: string, nowMs: number): void {
  const id = requireHeader(request, 'webhook-id');
  const timestamp = requireHeader(request, 'webhook-timestamp');
  const signatures = requireHeader(request, 'webhook-signature');

  if (!/^\d+$/.test(timestamp)) {
    throw new WebhookAuthError("Header 'webhook-timestamp' is not a unix timestamp");
  }
  const nowSeconds = Math.floor(nowMs / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) {
    throw new WebhookAuthError(
      `Header 'webhook-timestamp' is more than ${TOLERANCE_SECONDS}s from the current time`,
      'timestamp_out_of_tolerance',
    );
  }

  const expected = createHmac('sha256', signingKey(secret))
    .update(`${id}.${timestamp}.`)
    .update(request.rawBody)
    .digest('base64');
  // Several entries allow key rotation; versions other than v1 are for future schemes and ignored.
  const matches = signatures.split(' ').some((entry) => {
    const [version, signature = ''] = entry.split(',', 2);
    return version === 'v1' && safeEqual(signature, expected);
  });
  if (!matches) throw new WebhookAuthError("Signature in header 'webhook-signature' does not match");
}
