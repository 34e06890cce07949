/**
 * Stripe, Calendly and Paddle: a unix time and hex HMAC-SHA256 signatures in one header. Signed
 * with Stripe's own library, and with the documented formula for Calendly and Paddle (Paddle's
 * SDK only verifies; it is shown to accept the same header).
 */
import { createHmac } from 'node:crypto';
import { Paddle } from '@paddle/paddle-node-sdk';
import Stripe from 'stripe';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { VerifyConfig } from '../lib/rules/types';
import { verifyWebhook } from '../lib/webhook-auth';
import { expectAuthError, failure, tampered, webhookRequest } from './support/webhook-auth';

type Config = Extract<VerifyConfig, { scheme: 'stripe' | 'calendly' | 'paddle' }>;

const T = 1_795_507_200;
const at = (seconds: number) => seconds * 1000;
const body = '{"id":"evt_1QfLd2","type":"customer.subscription.deleted","data":{"object":{"customer":"cus_RZ8mWq"}}}';

/** Stripe's documented format, produced by Stripe's own test helper. */
const stripeSigner = (secret: string, payload: string, timestamp: number) =>
  Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
/** Calendly's documented format: `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
const calendlySigner = (secret: string, payload: string, timestamp: number) =>
  `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${payload}`).digest('hex')}`;
/** Paddle's documented format: `ts=<unix>;h1=<hex HMAC-SHA256 of "<ts>:<body>">`. */
const paddleSigner = (secret: string, payload: string, timestamp: number) =>
  `ts=${timestamp};h1=${createHmac('sha256', secret).update(`${timestamp}:${payload}`).digest('hex')}`;

interface Case {
  config: Config;
  header: string;
  secret: string;
  sign: (secret: string, payload: string, timestamp: number) => string;
  /** Another signature entry in the header's own syntax. */
  entry: (signature: string) => string;
  separator: string;
}

const cases: Case[] = [
  {
    config: { scheme: 'stripe', secretId: 's', toleranceSeconds: 300 },
    header: 'Stripe-Signature',
    secret: 'whsec_3vTNmX2cQp8kLd0RfYg7HjA1',
    sign: stripeSigner,
    entry: (signature) => `v1=${signature}`,
    separator: ',',
  },
  {
    config: { scheme: 'calendly', secretId: 's', toleranceSeconds: 180 },
    header: 'Calendly-Webhook-Signature',
    secret: 'kq4Zb9Xw0yHcVt2LmN7pRs5uJd8eFgA3',
    sign: calendlySigner,
    entry: (signature) => `v1=${signature}`,
    separator: ',',
  },
  {
    config: { scheme: 'paddle', secretId: 's', toleranceSeconds: 5 },
    header: 'Paddle-Signature',
    secret: 'pdl_ntfset_01jk8v3n2x6y0z4q9w7e5r1t3y_HbV6tQ2mW9xLcK4pR7sN1dZ8fG3jA5e',
    sign: paddleSigner,
    entry: (signature) => `h1=${signature}`,
    separator: ';',
  },
];

describe.each(cases)('$config.scheme', ({ config, header, secret, sign, entry, separator }) => {
  const signed = (value: string, payload: string | Buffer = body) => webhookRequest({ [header]: value }, payload);
  const valid = sign(secret, body, T);
  const signatureOf = (value: string) => value.split(separator)[1]!.split('=')[1]!;
  const tolerance = config.toleranceSeconds;

  it('accepts a body signed as the vendor documents, the header name in any case', () => {
    expect(() => verifyWebhook(config, signed(valid), secret, at(T))).not.toThrow();
    const upperCased = webhookRequest({ [header.toUpperCase()]: valid }, body);
    expect(() => verifyWebhook(config, upperCased, secret, at(T))).not.toThrow();
  });

  it('refuses the body with one byte changed, another secret, or another timestamp under the same signature', () => {
    expectAuthError(failure(config, signed(valid, tampered(body)), secret, at(T)), 'invalid_signature');
    expectAuthError(failure(config, signed(sign('another-secret', body, T)), secret, at(T)), 'invalid_signature');
    const moved = valid.replace(String(T), String(T + 1));
    expectAuthError(failure(config, signed(moved), secret, at(T)), 'invalid_signature');
  });

  it(`accepts timestamps up to its tolerance (${tolerance} s) away, in both directions`, () => {
    expect(() => verifyWebhook(config, signed(valid), secret, at(T + tolerance))).not.toThrow();
    expect(() => verifyWebhook(config, signed(valid), secret, at(T - tolerance))).not.toThrow();
  });

  it('refuses stale and future timestamps as timestamp_out_of_tolerance', () => {
    expectAuthError(failure(config, signed(valid), secret, at(T + tolerance + 1)), 'timestamp_out_of_tolerance');
    expectAuthError(failure(config, signed(valid), secret, at(T - tolerance - 1)), 'timestamp_out_of_tolerance');
  });

  it('takes a configured toleranceSeconds', () => {
    const wide = { ...config, toleranceSeconds: 600 };
    expect(() => verifyWebhook(wide, signed(valid), secret, at(T + 600))).not.toThrow();
    expectAuthError(failure(wide, signed(valid), secret, at(T + 601)), 'timestamp_out_of_tolerance');
  });

  it('accepts a rotation list when any one signature matches, first or last', () => {
    const old = signatureOf(sign('the-previous-secret', body, T));
    const current = signatureOf(valid);
    const [timestamp] = valid.split(separator);
    for (const value of [
      [timestamp, entry(old), entry(current)],
      [timestamp, entry(current), entry(old)],
    ]) {
      expect(() => verifyWebhook(config, signed(value.join(separator)), secret, at(T))).not.toThrow();
    }
    expectAuthError(
      failure(config, signed([timestamp, entry(old), entry('00')].join(separator)), secret, at(T)),
      'invalid_signature',
    );
  });

  it('refuses an unparsable header as invalid_signature, without echoing it or the secret', () => {
    const [timestamp, signature] = valid.split(separator) as [string, string];
    const key = timestamp.split('=')[0];
    const broken = [
      'garbage',
      signature,
      timestamp,
      `${key}=yesterday${separator}${signature}`,
      `${key}=-1${separator}${signature}`,
      `${key}=${T}${separator}${key}=${T}${separator}${signature}`,
      `${timestamp}${separator}v0=${signatureOf(valid)}`,
    ];
    for (const value of broken)
      expectAuthError(failure(config, signed(value), secret, at(T)), 'invalid_signature', secret, signatureOf(valid));
  });

  it('reports a missing header by name', () => {
    const error = failure(config, webhookRequest({ 'x-other': valid }, body), secret, at(T));
    expectAuthError(error, 'missing_signature');
    expect((error as Error).message).toContain(header.toLowerCase());
  });
});

describe('vendor specifics', () => {
  afterEach(() => vi.useRealTimers());

  it("stripe: ignores the test-mode v0 entry, and refuses a future timestamp Stripe's own library would accept", () => {
    const config = cases[0]!.config;
    const secret = cases[0]!.secret;
    const header = stripeSigner(secret, body, T);
    expect(() =>
      verifyWebhook(config, webhookRequest({ 'stripe-signature': `${header},v0=deadbeef` }, body), secret, at(T)),
    ).not.toThrow();

    const future = stripeSigner(secret, body, T + 3600);
    expect(() => Stripe.webhooks.constructEvent(body, future, secret, 300, undefined, at(T))).not.toThrow();
    expectAuthError(
      failure(config, webhookRequest({ 'stripe-signature': future }, body), secret, at(T)),
      'timestamp_out_of_tolerance',
    );
  });

  it("paddle: Paddle's SDK accepts the documented format, but only its last h1; we accept any", async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: at(T) });
    const { config, secret } = cases[2]!;
    const webhooks = new Paddle('pdl_sdbx_apikey_01jk8v3n2x6y0z4q9w7e5r1t3y_notARealKey0000000000000_AbC').webhooks;
    const valid = paddleSigner(secret, body, T);
    const current = valid.split(';h1=')[1];
    const rotated = `ts=${T};h1=${current};h1=${'0'.repeat(64)}`;

    expect(await webhooks.isSignatureValid(body, secret, valid)).toBe(true);
    expect(await webhooks.isSignatureValid(body, secret, rotated)).toBe(false);
    expect(() =>
      verifyWebhook(config, webhookRequest({ 'paddle-signature': rotated }, body), secret, at(T)),
    ).not.toThrow();
  });
});
