/** The sender's side of each verify scheme, checked by the function's own verifier, and the demo secrets. */
import { describe, expect, it } from 'vitest';
import { demoSigningSecret, demoSigningSecrets, signWebhook, type SecretVerifyConfig } from '../local/host/webhook-signing';
import type { RulesConfig } from '../lib/rules/types';
import { verifyWebhook } from '../lib/webhook-auth';

const schemes: SecretVerifyConfig[] = [
  { scheme: 'hmac', algorithm: 'sha256', header: 'X-Signature', prefix: 'sha256=', encoding: 'hex', secretId: 's/hmac-hex' },
  { scheme: 'hmac', algorithm: 'sha256', header: 'X-Hub', encoding: 'base64', secretId: 's/hmac-b64' },
  { scheme: 'standard-webhooks', secretId: 's/standard', toleranceSeconds: 300 },
  { scheme: 'token', header: 'X-Token', secretId: 's/token' },
  { scheme: 'basic', secretId: 's/basic' },
];

/** Header names as the function sees them (lower-cased). */
const asReceived = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));

describe('signWebhook', () => {
  it.each(schemes.map((verify) => [`${verify.scheme} ${verify.secretId}`, verify] as const))('%s: the function accepts what it signs, and only for that body', (_, verify) => {
    const secret = demoSigningSecret(verify);
    const body = Buffer.from('{"status":"lost"}');
    const headers = asReceived(signWebhook(verify, secret, body));

    expect(() => verifyWebhook(verify, { method: 'POST', url: undefined, headers, rawBody: body }, secret)).not.toThrow();
    if (verify.scheme !== 'token' && verify.scheme !== 'basic') {
      expect(() => verifyWebhook(verify, { method: 'POST', url: undefined, headers, rawBody: Buffer.from('{"status":"won"}') }, secret)).toThrow();
    }
  });

  it('signs Standard Webhooks for the given time, so the replay window applies', () => {
    const verify = schemes[2]!;
    const secret = demoSigningSecret(verify);
    const body = Buffer.from('{}');
    const headers = signWebhook(verify, secret, body, { nowMs: Date.now() - 10 * 60_000, id: 'msg_1' });

    expect(headers['webhook-id']).toBe('msg_1');
    expect(() => verifyWebhook(verify, { method: 'POST', url: undefined, headers, rawBody: body }, secret)).toThrow("'webhook-timestamp' is more than 300s");
  });
});

describe('demoSigningSecrets', () => {
  it('gives every source that names a secret a demo value of the right form', () => {
    const rules: RulesConfig = {
      sources: {
        crm: { verify: schemes[0]! },
        billing: { verify: schemes[2]! },
        open: { verify: { scheme: 'none' } },
      },
      eventSources: {},
      lookups: {},
      rules: [],
    };

    expect(demoSigningSecrets(rules)).toEqual({
      's/hmac-hex': 'demo:s/hmac-hex',
      's/standard': `whsec_${Buffer.from('demo:s/standard').toString('base64')}`,
    });
  });
});
