import { createHmac } from 'node:crypto';
import { ConfigError, WebhookAuthError } from '../errors';
import type { VerifyConfig } from '../rules/types';
import { digestEqual, readUnixTime, requireFreshTimestamp, requireHeader, type WebhookRequest } from './request';

type HubSpotConfig = Extract<VerifyConfig, { scheme: 'hubspot-v3' }>;

export const HUBSPOT_SIGNATURE_HEADER = 'X-HubSpot-Signature-v3';
/** Milliseconds since the epoch. */
export const HUBSPOT_TIMESTAMP_HEADER = 'X-HubSpot-Request-Timestamp';

/** The percent-encodings HubSpot's request-validation docs decode in the URI before signing. */
const DECODED: Record<string, string> = {
  '3A': ':',
  '2F': '/',
  '3F': '?',
  '40': '@',
  '21': '!',
  '24': '$',
  '27': "'",
  '28': '(',
  '29': ')',
  '2A': '*',
  '2C': ',',
  '3B': ';',
};
const ENCODED = /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi;

/** The URI as HubSpot signs it: the listed percent-encodings decoded, everything else as sent. */
export function hubspotSignedUri(url: string): string {
  return url.replace(ENCODED, (_, hex: string) => DECODED[hex.toUpperCase()]!);
}

/** base64 HMAC-SHA256(client secret, method + URI + body + timestamp). */
export function hubspotSignature(
  secret: string,
  method: string,
  url: string,
  body: string | Buffer,
  timestampMs: string,
): string {
  return createHmac('sha256', secret)
    .update(`${method}${hubspotSignedUri(url)}`)
    .update(body)
    .update(timestampMs)
    .digest('base64');
}

/**
 * The URL HubSpot called: `publicUrl` (the target URL configured in HubSpot, for a custom domain
 * or proxy in front of the API) with this request's query appended, else the URL the event reports.
 */
export function hubspotCalledUrl(config: { publicUrl?: string }, request: Pick<WebhookRequest, 'url'>): string {
  if (config.publicUrl === undefined) {
    if (request.url === undefined) {
      throw new ConfigError(
        "hubspot-v3 signs the URL HubSpot called, and this event does not tell it: set the source's verify.publicUrl",
      );
    }
    return request.url;
  }
  const query = request.url?.indexOf('?') ?? -1;
  return query === -1 ? config.publicUrl : `${config.publicUrl}${request.url!.slice(query)}`;
}

/** developers.hubspot.com "Validating requests": the v3 signature (v1/v2 are unkeyed hashes and not accepted). */
export function verifyHubSpotV3(config: HubSpotConfig, request: WebhookRequest, secret: string, nowMs: number): void {
  const signature = requireHeader(request, HUBSPOT_SIGNATURE_HEADER).trim();
  const timestamp = requireHeader(request, HUBSPOT_TIMESTAMP_HEADER).trim();
  const what = `Header '${HUBSPOT_TIMESTAMP_HEADER.toLowerCase()}'`;
  requireFreshTimestamp(readUnixTime(timestamp, what), nowMs, config.toleranceSeconds, what);
  const expected = hubspotSignature(
    secret,
    request.method,
    hubspotCalledUrl(config, request),
    request.rawBody,
    timestamp,
  );
  if (!digestEqual(signature, expected)) {
    throw new WebhookAuthError(`Signature in header '${HUBSPOT_SIGNATURE_HEADER.toLowerCase()}' does not match`);
  }
}
