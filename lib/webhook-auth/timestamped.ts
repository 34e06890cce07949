import { createHmac } from 'node:crypto';
import { WebhookAuthError } from '../errors';
import { anyDigestEqual, readUnixTime, requireFreshTimestamp, requireHeader, type WebhookRequest } from './request';

/**
 * A header of `key=value` elements carrying a unix time (seconds) and one or more hex HMAC-SHA256
 * signatures of `<time><joiner><raw body>`, keyed with the whole secret string as given.
 */
export interface TimestampedFormat {
  header: string;
  separator: string;
  timestampKey: string;
  signatureKey: string;
  joiner: string;
}

export const TIMESTAMPED_FORMATS = {
  /** docs.stripe.com "Verify webhook signatures manually": `t=<unix>,v1=<hex>[,v1=<hex>…]`. */
  stripe: { header: 'Stripe-Signature', separator: ',', timestampKey: 't', signatureKey: 'v1', joiner: '.' },
  /** developer.calendly.com "Webhook Signatures": Stripe's format under its own header. */
  calendly: {
    header: 'Calendly-Webhook-Signature',
    separator: ',',
    timestampKey: 't',
    signatureKey: 'v1',
    joiner: '.',
  },
  /** developer.paddle.com "Verify webhook signatures": `ts=<unix>;h1=<hex>[;h1=<hex>…]`. */
  paddle: { header: 'Paddle-Signature', separator: ';', timestampKey: 'ts', signatureKey: 'h1', joiner: ':' },
} as const satisfies Record<string, TimestampedFormat>;

export type TimestampedScheme = keyof typeof TIMESTAMPED_FORMATS;

/** The hex signature of `body` at `timestamp` (unix seconds, as sent). */
export function timestampedSignature(
  format: TimestampedFormat,
  secret: string,
  timestamp: string,
  body: string | Buffer,
): string {
  return createHmac('sha256', secret).update(`${timestamp}${format.joiner}`).update(body).digest('hex');
}

/** The timestamp and every signature of the header; other keys (Stripe's test-mode v0, future versions) are ignored. */
function parseHeader(format: TimestampedFormat, value: string): { timestamp: string; signatures: string[] } {
  const name = format.header.toLowerCase();
  const timestamps: string[] = [];
  const signatures: string[] = [];
  for (const element of value.split(format.separator)) {
    const [key, ...rest] = element.trim().split('=');
    if (rest.length === 0) throw new WebhookAuthError(`Header '${name}' is not a list of key=value elements`);
    if (key === format.timestampKey) timestamps.push(rest.join('='));
    else if (key === format.signatureKey) signatures.push(rest.join('=').toLowerCase());
  }
  // Two timestamps would leave open which one was signed.
  if (timestamps.length !== 1)
    throw new WebhookAuthError(`Header '${name}' must carry exactly one ${format.timestampKey}=`);
  if (signatures.length === 0)
    throw new WebhookAuthError(`Header '${name}' carries no ${format.signatureKey}= signature`);
  return { timestamp: timestamps[0]!, signatures };
}

/** Any one signature may match (anyDigestEqual). */
export function verifyTimestamped(
  format: TimestampedFormat,
  toleranceSeconds: number,
  request: WebhookRequest,
  secret: string,
  nowMs: number,
): void {
  const name = format.header.toLowerCase();
  const { timestamp, signatures } = parseHeader(format, requireHeader(request, format.header));
  const what = `The ${format.timestampKey}= of header '${name}'`;
  requireFreshTimestamp(readUnixTime(timestamp, what) * 1000, nowMs, toleranceSeconds, what);
  const expected = timestampedSignature(format, secret, timestamp, request.rawBody);
  if (!anyDigestEqual(signatures, expected)) throw new WebhookAuthError(`Signature in header '${name}' does not match`);
}
