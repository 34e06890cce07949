/**
 * The HMAC-of-the-body schemes: github (GitHub's published test vector and @octokit/webhooks-methods),
 * shopify and helpcrunch (each vendor's documented computation), and the generic hmac's algorithms.
 */
import { createHmac } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import type { VerifyConfig } from '../lib/rules/types';
import { verifyWebhook } from '../lib/webhook-auth';
import { expectAuthError, failure, tampered, webhookRequest } from './support/webhook-auth';

const body = '{"id":820982911946154508,"email":"ada@example.com","cancel_reason":"customer"}';

describe('github', () => {
  const config: VerifyConfig = { scheme: 'github', secretId: 'github' };
  const secret = 'gh-webhook-secret-5c1f';

  it("accepts GitHub's published test vector", () => {
    const vector = webhookRequest(
      { 'X-Hub-Signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' },
      'Hello, World!',
    );
    expect(() => verifyWebhook(config, vector, "It's a Secret to Everybody")).not.toThrow();
  });

  it('accepts what @octokit/webhooks-methods signs, and refuses it for a changed body', async () => {
    const headers = { 'X-Hub-Signature-256': await sign(secret, body) };
    expect(() => verifyWebhook(config, webhookRequest(headers, body), secret)).not.toThrow();
    expectAuthError(failure(config, webhookRequest(headers, tampered(body)), secret), 'invalid_signature', secret);
  });

  it('does not fall back to the SHA-1 X-Hub-Signature', () => {
    const sha1 = { 'X-Hub-Signature': `sha1=${createHmac('sha1', secret).update(body).digest('hex')}` };
    const error = failure(config, webhookRequest(sha1, body), secret);
    expectAuthError(error, 'missing_signature');
    expect((error as Error).message).toContain('x-hub-signature-256');
  });
});

describe('shopify', () => {
  const config: VerifyConfig = { scheme: 'shopify', secretId: 'shopify' };
  const secret = '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';
  // shopify.dev "Verify webhooks": base64 HMAC-SHA256 of the raw body with the app's client secret.
  const digest = createHmac('sha256', secret).update(body, 'utf8').digest('base64');

  it('accepts the base64 digest of the raw body, and refuses it for a changed body', () => {
    expect(() =>
      verifyWebhook(config, webhookRequest({ 'X-Shopify-Hmac-Sha256': digest }, body), secret),
    ).not.toThrow();
    expectAuthError(
      failure(config, webhookRequest({ 'X-Shopify-Hmac-Sha256': digest }, tampered(body)), secret),
      'invalid_signature',
    );
  });

  it('refuses the same digest in hex', () => {
    const hex = Buffer.from(digest, 'base64').toString('hex');
    expectAuthError(
      failure(config, webhookRequest({ 'X-Shopify-Hmac-Sha256': hex }, body), secret),
      'invalid_signature',
    );
  });
});

describe('helpcrunch', () => {
  const config: VerifyConfig = { scheme: 'helpcrunch', secretId: 'helpcrunch' };
  const secret = 'b8e2f0c4d6a1937e5f2c8b4a6d0e1f3a';
  // docs.helpcrunch.com: hexadecimal HMAC-SHA1 of the raw body with the HTTP Webhook Signing Key, 40 characters.
  const hex = createHmac('sha1', secret).update(body).digest('hex');

  it('accepts the 40-character hex HMAC-SHA1 of the raw body, in either case', () => {
    expect(hex).toMatch(/^[0-9a-f]{40}$/);
    expect(() => verifyWebhook(config, webhookRequest({ 'X-HelpCrunch-Signature': hex }, body), secret)).not.toThrow();
    expect(() =>
      verifyWebhook(config, webhookRequest({ 'X-HelpCrunch-Signature': hex.toUpperCase() }, body), secret),
    ).not.toThrow();
  });

  it("refuses a changed body, and the doc's example value (40 characters, but not hex)", () => {
    expectAuthError(
      failure(config, webhookRequest({ 'X-HelpCrunch-Signature': hex }, tampered(body)), secret),
      'invalid_signature',
    );
    const docExample = webhookRequest({ 'X-HelpCrunch-Signature': 'att73h99zvs9ipdmaj2rmr4oi5jhtwubs6q6tfwr' }, body);
    expectAuthError(failure(config, docExample, secret), 'invalid_signature');
  });
});

describe('hmac (generic) algorithms', () => {
  const secret = 'generic-secret-42';

  it.each([
    ['sha1', 'X-Hub-Signature', 'sha1=', 'hex'],
    ['sha256', 'X-Signature', undefined, 'base64'],
    ['sha512', 'X-Signature-512', undefined, 'hex'],
  ] as const)('%s in %s', (algorithm, header, prefix, encoding) => {
    const config: VerifyConfig = {
      scheme: 'hmac',
      algorithm,
      header,
      ...(prefix && { prefix }),
      encoding,
      secretId: 's',
    };
    const value = `${prefix ?? ''}${createHmac(algorithm, secret).update(body).digest(encoding)}`;

    expect(() => verifyWebhook(config, webhookRequest({ [header]: value }, body), secret)).not.toThrow();
    expectAuthError(failure(config, webhookRequest({ [header]: value }, tampered(body)), secret), 'invalid_signature');
    const otherAlgorithm = algorithm === 'sha1' ? 'sha256' : 'sha1';
    const wrong = `${prefix ?? ''}${createHmac(otherAlgorithm, secret).update(body).digest(encoding)}`;
    expectAuthError(failure(config, webhookRequest({ [header]: wrong }, body), secret), 'invalid_signature');
  });
});
