import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/errors';
import type { VerifyConfig } from '../lib/rules/types';
import { verifyWebhook } from '../lib/webhook-auth';
import { expectAuthError, failure, SECRET_SCHEMES, webhookRequest } from './support/webhook-auth';

const body = Buffer.from('{"event":"deal.won","customer":{"email":"ana@example.com"}}');

const request = (headers: Record<string, string>, rawBody = body) => webhookRequest(headers, rawBody);

describe('scheme none', () => {
  it('accepts any request without a secret', () => {
    expect(() => verifyWebhook({ scheme: 'none' }, request({}), undefined)).not.toThrow();
  });
});

describe('missing secret', () => {
  it.each(SECRET_SCHEMES)('$scheme without a loaded secret is a ConfigError', (config) => {
    expect(failure(config, request({}), undefined)).toBeInstanceOf(ConfigError);
    expect(failure(config, request({}), '')).toBeInstanceOf(ConfigError);
  });
});

describe('hmac-sha256', () => {
  const secret = 'hmac-secret-Zq9';
  const hex = createHmac('sha256', secret).update(body).digest('hex');
  const base64 = createHmac('sha256', secret).update(body).digest('base64');
  const github: VerifyConfig = {
    scheme: 'hmac',
    algorithm: 'sha256',
    header: 'X-Hub-Signature-256',
    prefix: 'sha256=',
    encoding: 'hex',
    secretId: 'github',
  };
  const plainBase64: VerifyConfig = {
    scheme: 'hmac',
    algorithm: 'sha256',
    header: 'X-Signature',
    encoding: 'base64',
    secretId: 's',
  };

  it('accepts prefix + hex digest over the raw body, header name matched case-insensitively', () => {
    expect(() => verifyWebhook(github, request({ 'x-hub-signature-256': `sha256=${hex}` }), secret)).not.toThrow();
  });

  it('compares hex case-insensitively', () => {
    const upper = request({ 'x-hub-signature-256': `sha256=${hex.toUpperCase()}` });
    expect(() => verifyWebhook(github, upper, secret)).not.toThrow();
  });

  it('accepts a base64 digest without prefix', () => {
    expect(() => verifyWebhook(plainBase64, request({ 'x-signature': base64 }), secret)).not.toThrow();
  });

  it('signs the raw bytes, not a re-serialisation', () => {
    const spaced = Buffer.from('{ "event": "deal.won" }');
    const digest = createHmac('sha256', secret).update(spaced).digest('base64');
    expect(() => verifyWebhook(plainBase64, request({ 'x-signature': digest }, spaced), secret)).not.toThrow();
  });

  it('rejects a digest made with another secret, without revealing either value', () => {
    const forged = createHmac('sha256', 'other').update(body).digest('hex');
    const error = failure(github, request({ 'x-hub-signature-256': `sha256=${forged}` }), secret);
    expectAuthError(error, 'invalid_signature', secret, forged);
    expect((error as Error).message).toContain('x-hub-signature-256');
  });

  it('rejects a tampered body', () => {
    const tampered = Buffer.from(body.toString().replace('ana', 'eve'));
    const error = failure(github, request({ 'x-hub-signature-256': `sha256=${hex}` }, tampered), secret);
    expectAuthError(error, 'invalid_signature');
  });

  it('rejects a wrong or missing prefix', () => {
    expectAuthError(failure(github, request({ 'x-hub-signature-256': `sha1=${hex}` }), secret), 'invalid_signature');
    expectAuthError(failure(github, request({ 'x-hub-signature-256': hex }), secret), 'invalid_signature');
  });

  it('rejects a digest in the other encoding', () => {
    const base64InHexHeader = request({ 'x-hub-signature-256': `sha256=${base64}` });
    expectAuthError(failure(github, base64InHexHeader, secret), 'invalid_signature');
    expectAuthError(failure(plainBase64, request({ 'x-signature': hex }), secret), 'invalid_signature');
  });

  it('reports a missing header by name', () => {
    const error = failure(github, request({ 'x-other': 'x' }), secret);
    expectAuthError(error, 'missing_signature', secret);
    expect((error as Error).message).toContain('x-hub-signature-256');
  });
});

describe('standard-webhooks (spec test vector)', () => {
  const config: VerifyConfig = { scheme: 'standard-webhooks', secretId: 'sw', toleranceSeconds: 300 };
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const timestamp = 1614265330;
  const valid = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
  const vectorBody = Buffer.from('{"test": 2432232314}');
  const at = (seconds: number) => seconds * 1000;

  function signed(signature = valid, overrides: Record<string, string> = {}) {
    return request(
      {
        'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signature,
        ...overrides,
      },
      vectorBody,
    );
  }

  it('accepts the published vector, with or without the whsec_ prefix', () => {
    expect(() => verifyWebhook(config, signed(), secret, at(timestamp))).not.toThrow();
    expect(() => verifyWebhook(config, signed(), secret.slice('whsec_'.length), at(timestamp))).not.toThrow();
  });

  it('accepts when any v1 entry matches and ignores other versions', () => {
    const header = `v1a,${valid.slice(3)} v1,bm90LXRoZS1zaWduYXR1cmU= ${valid} v2,xyz`;
    expect(() => verifyWebhook(config, signed(header), secret, at(timestamp))).not.toThrow();
  });

  it('does not accept the right signature under another version', () => {
    const error = failure(config, signed(`v2,${valid.slice(3)}`), secret, at(timestamp));
    expectAuthError(error, 'invalid_signature');
  });

  it('rejects a wrong secret, a tampered body and a changed id', () => {
    const otherSecret = `whsec_${Buffer.from('another key of some length').toString('base64')}`;
    expectAuthError(failure(config, signed(), otherSecret, at(timestamp)), 'invalid_signature', otherSecret);
    const tampered = { ...signed(), rawBody: Buffer.from('{"test": 2432232315}') };
    expectAuthError(failure(config, tampered, secret, at(timestamp)), 'invalid_signature');
    const otherId = signed(valid, { 'webhook-id': 'msg_other' });
    expectAuthError(failure(config, otherId, secret, at(timestamp)), 'invalid_signature');
  });

  it('accepts timestamps up to 5 minutes off in either direction', () => {
    expect(() => verifyWebhook(config, signed(), secret, at(timestamp + 300))).not.toThrow();
    expect(() => verifyWebhook(config, signed(), secret, at(timestamp - 300))).not.toThrow();
  });

  it('rejects timestamps just outside the tolerance', () => {
    expectAuthError(failure(config, signed(), secret, at(timestamp + 301)), 'timestamp_out_of_tolerance');
    expectAuthError(failure(config, signed(), secret, at(timestamp - 301)), 'timestamp_out_of_tolerance');
  });

  it('rejects a non-numeric timestamp', () => {
    const error = failure(config, signed(valid, { 'webhook-timestamp': 'yesterday' }), secret, at(timestamp));
    expectAuthError(error, 'invalid_signature');
  });

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])('reports missing %s by name', (name) => {
    const headers = { ...signed().headers };
    delete headers[name];
    const error = failure(config, request(headers, vectorBody), secret, at(timestamp));
    expectAuthError(error, 'missing_signature', secret);
    expect((error as Error).message).toContain(name);
  });

  it('never puts the secret or the signature in messages', () => {
    const error = failure(config, signed('v1,AAAA'), secret, at(timestamp));
    expectAuthError(error, 'invalid_signature', secret, secret.slice(6), 'AAAA');
  });

  it('treats a secret that is not base64 as a configuration error', () => {
    expect(failure(config, signed(), 'whsec_', at(timestamp))).toBeInstanceOf(ConfigError);
  });
});

describe('token', () => {
  const config: VerifyConfig = { scheme: 'token', header: 'X-Webhook-Token', secretId: 't' };
  const secret = 'tok_7f3a9c';

  it('accepts the exact secret', () => {
    expect(() => verifyWebhook(config, request({ 'x-webhook-token': secret }), secret)).not.toThrow();
  });

  it('rejects another value of any length without echoing either', () => {
    for (const wrong of ['tok_7f3a9d', 'q7', `${secret}x`]) {
      const error = failure(config, request({ 'x-webhook-token': wrong }), secret);
      expectAuthError(error, 'invalid_signature', secret, wrong);
    }
  });

  it('reports a missing header', () => {
    const error = failure(config, request({}), secret);
    expectAuthError(error, 'missing_signature', secret);
    expect((error as Error).message).toContain('x-webhook-token');
  });
});

describe('token in the URL (query)', () => {
  const config: VerifyConfig = { scheme: 'token', query: 'key', secretId: 't', answerGet: true };
  const secret = '3f9a0c7e51b2d84a6e0f1c3b5d7a9e2f';
  const withQuery = (query: string, headers: Record<string, string> = {}) => ({ ...request(headers), query });

  it('accepts the exact secret, percent-decoded', () => {
    expect(() => verifyWebhook(config, withQuery(`key=${secret}`), secret)).not.toThrow();
    expect(() => verifyWebhook(config, withQuery('other=1&key=a%2Fb'), 'a/b')).not.toThrow();
  });

  it('rejects another value of any length without echoing either', () => {
    for (const wrong of [secret.slice(1), `${secret}0`, 'x']) {
      const error = failure(config, withQuery(`key=${wrong}`), secret);
      expectAuthError(error, 'invalid_signature', secret, wrong);
      expect((error as Error).message).toBe("Token in query parameter 'key' does not match");
    }
  });

  it('reports a missing or empty parameter by name, and takes no header instead', () => {
    for (const query of ['', 'other=1', 'key=', 'KEY=x']) {
      const error = failure(config, withQuery(query, { key: secret }), secret);
      expectAuthError(error, 'missing_signature', secret);
      expect((error as Error).message).toBe("Missing query parameter 'key'");
    }
    expectAuthError(failure(config, request({}), secret), 'missing_signature');
  });

  it('refuses the parameter given twice, even when one is right', () => {
    const error = failure(config, withQuery(`key=${secret}&key=guess`), secret);
    expectAuthError(error, 'invalid_signature', secret, 'guess');
    expect((error as Error).message).toBe("The query parameter 'key' is given 2 times");
  });
});

describe('basic', () => {
  const config: VerifyConfig = { scheme: 'basic', secretId: 'b' };
  const secret = 'crm:pa55:word';
  const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

  it('accepts matching user:password (scheme name case-insensitive)', () => {
    expect(() => verifyWebhook(config, request({ authorization: basic(secret) }), secret)).not.toThrow();
    const lowerCaseScheme = request({ authorization: basic(secret).replace('Basic', 'basic') });
    expect(() => verifyWebhook(config, lowerCaseScheme, secret)).not.toThrow();
  });

  it('rejects a wrong password and other schemes without echoing credentials', () => {
    const wrong = basic('crm:guess');
    expectAuthError(failure(config, request({ authorization: wrong }), secret), 'invalid_signature', secret, wrong);
    const bearer = request({ authorization: `Bearer ${secret}` });
    expectAuthError(failure(config, bearer, secret), 'invalid_signature', secret);
  });

  it('reports a missing Authorization header', () => {
    expectAuthError(failure(config, request({}), secret), 'missing_signature');
  });
});
