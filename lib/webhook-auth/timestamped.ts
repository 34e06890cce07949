/**
 * The shared shape of Stripe's, Calendly's and Paddle's signatures: one header of `key=value`
 * elements carrying a unix time (seconds) and one or more hex HMAC-SHA256 signatures of
 * `<time><joiner><raw body>`, keyed with the whole secret string as given.
 */
import { createHmac } from 'node:crypto';
import { WebhookAuthError } from '../errors';
import { secretAndTolerance } from './options';
import { anyDigestEqual, readUnixTime, requireFreshTimestamp, requireHeader, type WebhookRequest } from './request';
import { defineScheme, type SchemeEvent } from './scheme';

export interface TimestampedFormat {
  header: string;
  separator: string;
  timestampKey: string;
  signatureKey: string;
  joiner: string;
}

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

/** A vendor scheme in this format: its header format, documented replay window and event fields. */
export function timestampedScheme<const Name extends string>(vendor: {
  name: Name;
  docs: string;
  format: TimestampedFormat;
  toleranceSeconds: number;
  event: SchemeEvent;
}) {
  const { format } = vendor;
  const header = (timestamp: string, signature: string) =>
    `${format.timestampKey}=${timestamp}${format.separator}${format.signatureKey}=${signature}`;
  return defineScheme({
    name: vendor.name,
    docs: vendor.docs,
    options: secretAndTolerance(vendor.toleranceSeconds),
    event: vendor.event,
    verify: (config, request, secret, nowMs) =>
      verifyTimestamped(format, config.toleranceSeconds, request, secret, nowMs),
    sign(_config, secret, body, { nowMs }) {
      const seconds = String(Math.floor(nowMs / 1000));
      return { headers: { [format.header]: header(seconds, timestampedSignature(format, secret, seconds, body)) } };
    },
    signInShell: (_config, secret) => ({
      variables: '',
      signed: `$ts${format.joiner}$body`,
      key: Buffer.from(secret, 'utf8'),
      output: 'hex',
      headers: { [format.header]: header('$ts', '$sig') },
    }),
  });
}
