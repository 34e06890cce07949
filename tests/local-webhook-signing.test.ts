/**
 * The sender's side of each verify scheme: what it signs passes the function's own verifier and,
 * for every vendor that publishes one, the vendor's verifier; and the demo secrets.
 */
import { createHmac } from 'node:crypto';
import { Signature } from '@hubspot/api-client';
import { verify as verifyGitHub } from '@octokit/webhooks-methods';
import { Paddle } from '@paddle/paddle-node-sdk';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { Webhook as Svix } from 'svix';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RulesConfig } from '../lib/rules/types';
import { verifyWebhook } from '../lib/webhook-auth';
import {
  demoSigningSecret,
  demoSigningSecrets,
  signWebhook,
  type SecretVerifyConfig,
} from '../local/host/webhook-signing';
import { SECRET_SCHEMES, tampered, webhookRequest } from './support/webhook-auth';

const schemes = SECRET_SCHEMES;
const byScheme = <S extends SecretVerifyConfig['scheme']>(scheme: S) =>
  schemes.find((verify) => verify.scheme === scheme) as Extract<SecretVerifyConfig, { scheme: S }>;

const NOW = 1_795_507_200_000;
const url = 'https://127.0.0.1:3000/webhooks/crm';
const body = '{"status":"lost","person":{"email":"ada@example.com"}}';

describe('signWebhook', () => {
  it.each(schemes.map((verify) => [`${verify.scheme} ${verify.secretId}`, verify] as const))(
    '%s: the function accepts what it signs, and only for that body',
    (_, verify) => {
      const secret = demoSigningSecret(verify);
      const headers = signWebhook(verify, secret, body, { nowMs: NOW, url });

      expect(() => verifyWebhook(verify, webhookRequest(headers, body, url), secret, NOW)).not.toThrow();
      if (verify.scheme !== 'token' && verify.scheme !== 'basic') {
        expect(() => verifyWebhook(verify, webhookRequest(headers, tampered(body), url), secret, NOW)).toThrow();
      }
    },
  );

  it('signs for the given time, so the replay window applies', () => {
    const verify = byScheme('standard-webhooks');
    const secret = demoSigningSecret(verify);
    const headers = signWebhook(verify, secret, '{}', { nowMs: NOW - 10 * 60_000, id: 'msg_1' });

    expect(headers['webhook-id']).toBe('msg_1');
    expect(() => verifyWebhook(verify, webhookRequest(headers, '{}'), secret, NOW)).toThrow(
      "'webhook-timestamp' is more than 300s",
    );
  });

  it('needs the URL for hubspot-v3, unless the source sets publicUrl', () => {
    const verify = byScheme('hubspot-v3');
    expect(() => signWebhook(verify, 'secret', body)).toThrow('pass { url }');
    expect(signWebhook({ ...verify, publicUrl: 'https://hooks.example.com/hubspot' }, 'secret', body)).toHaveProperty(
      'X-HubSpot-Signature-v3',
    );
  });
});

describe("signWebhook, checked by each vendor's own verifier", () => {
  afterEach(() => vi.useRealTimers());
  const signed = (scheme: SecretVerifyConfig['scheme'], options = {}) => {
    const verify = byScheme(scheme);
    const secret = demoSigningSecret(verify);
    return { secret, headers: signWebhook(verify, secret, body, { nowMs: NOW, url, ...options }) };
  };

  it('stripe: stripe.webhooks.constructEvent', () => {
    const { secret, headers } = signed('stripe');
    expect(
      Stripe.webhooks.constructEvent(body, headers['Stripe-Signature']!, secret, 300, undefined, NOW),
    ).toMatchObject({ status: 'lost' });
  });

  it("paddle: the Paddle SDK's webhooks.isSignatureValid", async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const { secret, headers } = signed('paddle');
    const webhooks = new Paddle('pdl_sdbx_apikey_01jk8v3n2x6y0z4q9w7e5r1t3y_notARealKey0000000000000_AbC').webhooks;
    expect(await webhooks.isSignatureValid(body, secret, headers['Paddle-Signature']!)).toBe(true);
  });

  it("hubspot-v3: @hubspot/api-client's Signature.isValid", () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const { secret, headers } = signed('hubspot-v3');
    const timestamp = Number(headers['X-HubSpot-Request-Timestamp']);
    expect(
      Signature.isValid({
        signatureVersion: 'v3',
        method: 'POST',
        url,
        requestBody: body,
        clientSecret: secret,
        timestamp,
        signature: headers['X-HubSpot-Signature-v3']!,
      }),
    ).toBe(true);
  });

  it("github: @octokit/webhooks-methods' verify", async () => {
    const { secret, headers } = signed('github');
    expect(await verifyGitHub(secret, body, headers['X-Hub-Signature-256']!)).toBe(true);
  });

  it("standard-webhooks: the standardwebhooks library, and Svix's under svix-* names", () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const spec = signed('standard-webhooks');
    expect(new StandardWebhook(spec.secret).verify(body, spec.headers)).toMatchObject({ status: 'lost' });
    const svix = signed('standard-webhooks', { headerPrefix: 'svix' });
    expect(Object.keys(svix.headers)).toEqual(['svix-id', 'svix-timestamp', 'svix-signature']);
    expect(new Svix(svix.secret).verify(body, svix.headers)).toMatchObject({ status: 'lost' });
  });

  it('calendly, shopify, helpcrunch: the computation each vendor documents (none publishes a verifier)', () => {
    const hmac = (algorithm: string, key: string, text: string, encoding: 'hex' | 'base64') =>
      createHmac(algorithm, key).update(text).digest(encoding);
    const seconds = NOW / 1000;
    const calendly = signed('calendly');
    expect(calendly.headers['Calendly-Webhook-Signature']).toBe(
      `t=${seconds},v1=${hmac('sha256', calendly.secret, `${seconds}.${body}`, 'hex')}`,
    );
    const shopify = signed('shopify');
    expect(shopify.headers['X-Shopify-Hmac-Sha256']).toBe(hmac('sha256', shopify.secret, body, 'base64'));
    const helpcrunch = signed('helpcrunch');
    expect(helpcrunch.headers['X-HelpCrunch-Signature']).toBe(hmac('sha1', helpcrunch.secret, body, 'hex'));
  });
});

describe('demoSigningSecrets', () => {
  it('gives every source that names a secret a demo value of the right form', () => {
    const rules: RulesConfig = {
      sources: {
        crm: { verify: byScheme('github') },
        billing: { verify: byScheme('standard-webhooks') },
        open: { verify: { scheme: 'none' } },
      },
      eventSources: {},
      lookups: {},
      rules: [],
    };

    expect(demoSigningSecrets(rules)).toEqual({
      's/github': 'demo:s/github',
      's/standard-webhooks': `whsec_${Buffer.from('demo:s/standard-webhooks').toString('base64')}`,
    });
  });
});
