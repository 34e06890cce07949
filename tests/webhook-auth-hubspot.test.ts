/** HubSpot's v3 request signature, signed with HubSpot's own client library (@hubspot/api-client Signature). */
import { Signature } from '@hubspot/api-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../lib/errors';
import type { VerifyConfig } from '../lib/rules/types';
import { verifyWebhook } from '../lib/webhook-auth';
import { expectAuthError, failure, tampered, webhookRequest } from './support/webhook-auth';

const config: VerifyConfig = { scheme: 'hubspot-v3', secretId: 'hubspot', toleranceSeconds: 300 };
const secret = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';
const NOW = 1_795_507_200_000;
const url = 'https://abc123.execute-api.us-east-1.amazonaws.com/webhooks/hubspot';
const body = JSON.stringify([
  {
    eventId: 3816279340,
    subscriptionId: 2718461,
    portalId: 62515,
    appId: 1160452,
    occurredAt: NOW - 2000,
    subscriptionType: 'deal.propertyChange',
    attemptNumber: 0,
    objectId: 18452730211,
    propertyName: 'dealstage',
    propertyValue: 'closedlost',
    changeSource: 'CRM_UI',
  },
]);

/** The headers HubSpot sends, the signature computed by HubSpot's own library over the URI it signs. */
function hubspotHeaders(
  signedUrl: string,
  timestampMs = NOW,
  payload = body,
  clientSecret = secret,
): Record<string, string> {
  const signature = Signature.getSignature('POST', 'v3', {
    signature: '',
    clientSecret,
    requestBody: payload,
    url: signedUrl,
    timestamp: timestampMs,
  });
  return { 'X-HubSpot-Signature-v3': signature, 'X-HubSpot-Request-Timestamp': String(timestampMs) };
}

describe('hubspot-v3', () => {
  afterEach(() => vi.useRealTimers());

  it('accepts a request HubSpot signed for the URL it called', () => {
    expect(() => verifyWebhook(config, webhookRequest(hubspotHeaders(url), body, url), secret, NOW)).not.toThrow();
  });

  it('refuses the body with one byte changed, another secret, another URL or another timestamp', () => {
    const headers = hubspotHeaders(url);
    expectAuthError(failure(config, webhookRequest(headers, tampered(body), url), secret, NOW), 'invalid_signature');
    expectAuthError(
      failure(config, webhookRequest(hubspotHeaders(url, NOW, body, 'other'), body, url), secret, NOW),
      'invalid_signature',
      secret,
    );
    expectAuthError(failure(config, webhookRequest(headers, body, `${url}-x`), secret, NOW), 'invalid_signature');
    const moved = { ...headers, 'X-HubSpot-Request-Timestamp': String(NOW + 1) };
    expectAuthError(failure(config, webhookRequest(moved, body, url), secret, NOW), 'invalid_signature');
  });

  it('reads the timestamp in milliseconds and allows 5 minutes either way', () => {
    const signed = (timestampMs: number) => webhookRequest(hubspotHeaders(url, timestampMs), body, url);
    expect(() => verifyWebhook(config, signed(NOW - 300_000), secret, NOW)).not.toThrow();
    expect(() => verifyWebhook(config, signed(NOW + 300_000), secret, NOW)).not.toThrow();
    expectAuthError(failure(config, signed(NOW - 300_001), secret, NOW), 'timestamp_out_of_tolerance');
    expectAuthError(failure(config, signed(NOW + 300_001), secret, NOW), 'timestamp_out_of_tolerance');
    // A timestamp in seconds reads as January 1970.
    expectAuthError(failure(config, signed(NOW / 1000), secret, NOW), 'timestamp_out_of_tolerance');
  });

  it("refuses a future timestamp that HubSpot's own library accepts (it only rejects old ones)", () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const future = NOW + 3_600_000;
    const headers = hubspotHeaders(url, future);
    expect(
      Signature.isValid({
        signatureVersion: 'v3',
        signature: headers['X-HubSpot-Signature-v3']!,
        clientSecret: secret,
        requestBody: body,
        url,
        timestamp: future,
      }),
    ).toBe(true);
    expectAuthError(failure(config, webhookRequest(headers, body, url), secret, NOW), 'timestamp_out_of_tolerance');
  });

  it("decodes the URI's listed percent-encodings as HubSpot does before signing, and no others", () => {
    const called = `${url}?return=https%3A%2F%2Fcrm.example.com%2Fdeals%3Fid%3D7&by=ops%40example.com&list=%28a%2Cb%3Bc%29%21%24%2a%27&space=a%20b`;
    const decoded = `${url}?return=https://crm.example.com/deals?id%3D7&by=ops@example.com&list=(a,b;c)!$*'&space=a%20b`;

    expect(() =>
      verifyWebhook(config, webhookRequest(hubspotHeaders(decoded), body, called), secret, NOW),
    ).not.toThrow();
    expectAuthError(
      failure(config, webhookRequest(hubspotHeaders(called), body, called), secret, NOW),
      'invalid_signature',
    );
  });

  it('verifies against publicUrl plus the request query when HubSpot calls a custom domain', () => {
    const withPublicUrl: VerifyConfig = { ...config, publicUrl: 'https://hooks.example.com/crm/hubspot' };
    const headers = hubspotHeaders('https://hooks.example.com/crm/hubspot?portal=62515');
    const request = webhookRequest(headers, body, `${url}?portal=62515`);

    expect(() => verifyWebhook(withPublicUrl, request, secret, NOW)).not.toThrow();
    expectAuthError(failure(config, request, secret, NOW), 'invalid_signature');
    // Without the event's URL there is no query to append.
    expectAuthError(failure(withPublicUrl, { ...request, url: undefined }, secret, NOW), 'invalid_signature');
  });

  it('is a configuration error when neither the event nor publicUrl tells the URL', () => {
    expect(failure(config, webhookRequest(hubspotHeaders(url), body), secret, NOW)).toBeInstanceOf(ConfigError);
  });

  it.each(['X-HubSpot-Signature-v3', 'X-HubSpot-Request-Timestamp'])('reports a missing %s by name', (name) => {
    const headers = hubspotHeaders(url);
    delete headers[name];
    const error = failure(config, webhookRequest(headers, body, url), secret, NOW);
    expectAuthError(error, 'missing_signature');
    expect((error as Error).message).toContain(name.toLowerCase());
  });

  it('refuses a timestamp that is not a number, without echoing the signature', () => {
    const headers = hubspotHeaders(url);
    const signature = headers['X-HubSpot-Signature-v3']!;
    headers['X-HubSpot-Request-Timestamp'] = '2026-11-24T08:00:00Z';
    expectAuthError(failure(config, webhookRequest(headers, body, url), secret, NOW), 'invalid_signature', signature);
  });
});
