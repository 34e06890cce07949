import { createHmac } from 'node:crypto';
import { ConfigError, WebhookAuthError } from '../errors';
import { secretIdOption, toleranceOption } from './options';
import { digestEqual, readUnixTime, requireFreshTimestamp, requireHeader, type WebhookRequest } from './request';
import { defineScheme } from './scheme';

const SIGNATURE_HEADER = 'X-HubSpot-Signature-v3';
/** Milliseconds since the epoch. */
const TIMESTAMP_HEADER = 'X-HubSpot-Request-Timestamp';

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

/**
 * developers.hubspot.com "Validating requests": the v3 signature (v1/v2 are unkeyed hashes and not
 * accepted). Each element of HubSpot's batch ("Webhooks API", webhook payloads) carries its
 * `subscriptionType`, `eventId` and `occurredAt` (milliseconds). HubSpot says the `eventId` "is not
 * guaranteed to be unique", and two different events taken for one would drop the second as a
 * duplicate: the id is the `eventId` with the subscription, object and time, which a retry
 * repeats and two different events do not share.
 */
export const hubspotV3 = defineScheme({
  name: 'hubspot-v3',
  docs: 'https://developers.hubspot.com/docs/api/webhooks/validating-requests',
  options: {
    type: 'object',
    properties: {
      secretId: secretIdOption,
      toleranceSeconds: toleranceOption(300),
      publicUrl: {
        type: 'string',
        pattern: '^https://[^\\s/?#][^\\s]*$',
        description: 'the URL the sender calls, when it is not the API Gateway URL (custom domain)',
        errorMessage: 'must be the https:// URL HubSpot calls, e.g. https://hooks.example.com/webhooks/hubspot',
        // HubSpot signs the URL with the request's own query, which verification appends.
        allOf: [
          {
            pattern: '^[^?#]*$',
            errorMessage: "must not carry a query or fragment (the request's own query is appended)",
          },
        ],
      },
    },
    required: ['secretId'],
    additionalProperties: false,
  },
  event: {
    type: { field: 'subscriptionType' },
    id: {
      field: "join(':', [to_string(eventId), to_string(subscriptionId), to_string(objectId), to_string(occurredAt)])",
    },
    occurredAt: { field: 'occurredAt' },
  },
  verify(config, request, secret, nowMs) {
    const signature = requireHeader(request, SIGNATURE_HEADER).trim();
    const timestamp = requireHeader(request, TIMESTAMP_HEADER).trim();
    const what = `Header '${TIMESTAMP_HEADER.toLowerCase()}'`;
    requireFreshTimestamp(readUnixTime(timestamp, what), nowMs, config.toleranceSeconds, what);
    const expected = hubspotSignature(
      secret,
      request.method,
      hubspotCalledUrl(config, request),
      request.rawBody,
      timestamp,
    );
    if (!digestEqual(signature, expected)) {
      throw new WebhookAuthError(`Signature in header '${SIGNATURE_HEADER.toLowerCase()}' does not match`);
    }
  },
  sign(config, secret, body, { nowMs, url }) {
    if (config.publicUrl === undefined && url === undefined)
      throw new Error('hubspot-v3 signs the URL the request goes to: pass { url }');
    const timestamp = String(nowMs);
    const signature = hubspotSignature(secret, 'POST', hubspotCalledUrl(config, { url }), body, timestamp);
    return { headers: { [SIGNATURE_HEADER]: signature, [TIMESTAMP_HEADER]: timestamp } };
  },
  signInShell: (config, secret, { url }) => ({
    // HubSpot's timestamp is in milliseconds.
    variables: '; ms="$ts"000',
    signed: `POST${hubspotSignedUri(hubspotCalledUrl(config, { url })).replace(/["$`\\]/g, '\\$&')}$body$ms`,
    key: Buffer.from(secret, 'utf8'),
    output: 'base64',
    headers: { [SIGNATURE_HEADER]: '$sig', [TIMESTAMP_HEADER]: '$ms' },
  }),
});
