/**
 * standard-webhooks under both header sets: the spec's webhook-* (signed with the standardwebhooks
 * library) and Svix's default svix-* (signed with Svix's own library), as Clerk, Resend and other
 * Svix customers send them.
 */
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as Svix } from 'svix';
import { describe, expect, it } from 'vitest';
import type { VerifyConfig } from '../lib/rules/types';
import { verifyWebhook } from '../lib/webhook-auth';
import { expectAuthError, failure, tampered, webhookRequest } from './support/webhook-auth';

const config: VerifyConfig = { scheme: 'standard-webhooks', secretId: 'clerk', toleranceSeconds: 300 };
const secret = `whsec_${Buffer.from('clerk-signing-key-0123456789abcdef').toString('base64')}`;
const T = 1_795_507_200;
const at = (seconds: number) => seconds * 1000;
const id = 'msg_2pQZmC1y6nDq4kS8wX3vR0tL9aB';
const body =
  '{"data":{"deleted":true,"id":"user_2pQZl7bC0xW1yV3uT5sR8qP6oN","object":"user"},"object":"event","type":"user.deleted"}';

function svixHeaders(payload = body, timestamp = T, signingSecret = secret): Record<string, string> {
  const signature = new Svix(signingSecret).sign(id, new Date(at(timestamp)), payload);
  return { 'svix-id': id, 'svix-timestamp': String(timestamp), 'svix-signature': signature };
}
const spec = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.replace('svix-', 'webhook-'), value]));

describe('standard-webhooks with Svix header names', () => {
  it("accepts what Svix's library signs, and what the standardwebhooks library signs under webhook-*", () => {
    expect(() => verifyWebhook(config, webhookRequest(svixHeaders(), body), secret, at(T))).not.toThrow();
    const signature = new StandardWebhook(secret).sign(id, new Date(at(T)), body);
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(T), 'webhook-signature': signature };
    expect(() => verifyWebhook(config, webhookRequest(headers, body), secret, at(T))).not.toThrow();
  });

  it('refuses the body with one byte changed, naming the svix header', () => {
    const error = failure(config, webhookRequest(svixHeaders(), tampered(body)), secret, at(T));
    expectAuthError(error, 'invalid_signature', secret);
    expect((error as Error).message).toContain('svix-signature');
  });

  it('refuses stale and future timestamps, and takes a configured tolerance', () => {
    const signed = webhookRequest(svixHeaders(), body);
    expectAuthError(failure(config, signed, secret, at(T + 301)), 'timestamp_out_of_tolerance');
    expectAuthError(failure(config, signed, secret, at(T - 301)), 'timestamp_out_of_tolerance');
    expect(() => verifyWebhook({ ...config, toleranceSeconds: 900 }, signed, secret, at(T + 900))).not.toThrow();
  });

  it('accepts a rotation list when any one signature matches', () => {
    const old = svixHeaders(body, T, `whsec_${Buffer.from('the previous key').toString('base64')}`)['svix-signature'];
    const headers = { ...svixHeaders(), 'svix-signature': `${old} ${svixHeaders()['svix-signature']}` };
    expect(() => verifyWebhook(config, webhookRequest(headers, body), secret, at(T))).not.toThrow();
    const onlyOld = { ...headers, 'svix-signature': old! };
    expectAuthError(failure(config, webhookRequest(onlyOld, body), secret, at(T)), 'invalid_signature');
  });

  it('reads webhook-* when both sets arrive, and never mixes them', () => {
    const valid = svixHeaders();
    const forged = svixHeaders(body, T, `whsec_${Buffer.from('an attacker key').toString('base64')}`);
    const specWins = webhookRequest({ ...forged, ...spec(valid) }, body);
    expect(() => verifyWebhook(config, specWins, secret, at(T))).not.toThrow();
    const forgedSpec = webhookRequest({ ...valid, ...spec(forged) }, body);
    expectAuthError(failure(config, forgedSpec, secret, at(T)), 'invalid_signature');
    // One webhook-* header is enough to choose that set: the rest must be there too.
    const mixed = webhookRequest({ ...valid, 'webhook-timestamp': String(T) }, body);
    const error = failure(config, mixed, secret, at(T));
    expectAuthError(error, 'missing_signature');
    expect((error as Error).message).toContain('webhook-id');
  });

  it.each(['svix-id', 'svix-timestamp', 'svix-signature'])('reports a missing %s by name', (name) => {
    const headers = svixHeaders();
    delete headers[name];
    const error = failure(config, webhookRequest(headers, body), secret, at(T));
    expectAuthError(error, 'missing_signature');
    expect((error as Error).message).toContain(name);
  });
});
