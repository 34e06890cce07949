/**
 * Every sender scheme end to end through the real webhook handler (functions/webhook.ts): rules
 * compiled from a fixture config, the HelpCrunch sandbox and a Secrets Manager endpoint on
 * loopback. A genuine delivery untags; the same delivery with one body byte changed is a 401 and
 * HelpCrunch is never called.
 */
import { Signature } from '@hubspot/api-client';
import { sign as signGitHub } from '@octokit/webhooks-methods';
import Stripe from 'stripe';
import { Webhook as Svix } from 'svix';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseHttpEvent } from '../lib/triggers/http-event';
import type { VerifyConfig } from '../lib/rules/types';
import { signWebhook } from '../local/host/webhook-signing';
import { validateRulesConfig } from '../tooling/rules/validate';
import { startHelpCrunchSandbox, type HelpCrunchSandbox } from '../local/sandbox/helpcrunch-sandbox';
import { startSecretsManagerEndpoint, type SecretsManagerEndpoint } from '../local/sandbox/secrets-manager-endpoint';
import { lambdaContext, webhookEvent } from './support/lambda-events';
import { useLocalLedger, type LocalLedger } from './support/ledger';
import { captureOutput, useLocalAws, type CapturedOutput } from './support/local-aws';
import { tampered } from './support/webhook-auth';

const API_KEY = 'hc-live-key-5f1e0c2a9b';

/** One source per scheme, each with a rule removing Lead from the customer its payload names by email. */
const fixture = vi.hoisted(() => {
  const verify = {
    stripe: { scheme: 'stripe', secretId: 'senders/stripe' },
    calendly: { scheme: 'calendly', secretId: 'senders/calendly' },
    paddle: { scheme: 'paddle', secretId: 'senders/paddle', toleranceSeconds: 60 },
    hubspot: { scheme: 'hubspot-v3', secretId: 'senders/hubspot' },
    helpcrunch: { scheme: 'helpcrunch', secretId: 'senders/helpcrunch' },
    github: { scheme: 'github', secretId: 'senders/github' },
    shopify: { scheme: 'shopify', secretId: 'senders/shopify' },
    clerk: { scheme: 'standard-webhooks', secretId: 'senders/clerk' },
    intercom: {
      scheme: 'hmac',
      algorithm: 'sha1',
      header: 'X-Hub-Signature',
      prefix: 'sha1=',
      secretId: 'senders/intercom',
    },
  };
  return {
    sources: Object.fromEntries(Object.entries(verify).map(([name, config]) => [name, { verify: config }])),
    rules: Object.keys(verify).map((name) => ({
      name: `${name}-lost`,
      source: name,
      customer: { email: 'email' },
      removeTags: ['Lead'],
    })),
  };
});

vi.mock('../lib/rules/bundled', async () => {
  const { compileRules } = await import('../lib/rules/match');
  const { validateRulesConfig } = await import('../tooling/rules/validate');
  return { bundledRules: compileRules(validateRulesConfig(fixture)) };
});

const secrets: Record<string, string> = {
  'senders/stripe': 'whsec_8c2f0e4a6b1d3957f0a2c4e6b8d1f3a5',
  'senders/calendly': 'cAlEnDlY-signing-key-3f8a9c2d',
  'senders/paddle': 'pdl_ntfset_01jk8v3n2x6y0z4q9w7e5r1t3y_HbV6tQ2mW9xLcK4pR7sN1dZ8fG3jA5e',
  'senders/hubspot': 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy',
  'senders/helpcrunch': 'helpcrunch-signing-key-d41d8cd9',
  'senders/github': 'gh-webhook-secret-5c1f',
  'senders/shopify': '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',
  'senders/clerk': `whsec_${Buffer.from('clerk-signing-key-0123456789abcdef').toString('base64')}`,
  'senders/intercom': 'intercom-client-secret-77',
};

const validated = validateRulesConfig(fixture);
const verifyOf = (source: string) => validated.sources[source]!.verify as Exclude<VerifyConfig, { scheme: 'none' }>;
const secretOf = (source: string) => secrets[verifyOf(source).secretId]!;
const sourceUrl = (source: string) => parseHttpEvent(webhookEvent('http-api', { source, body: '' })).url!;

interface Delivery {
  source: string;
  body: string;
  contentType?: string;
  /** The sender's headers for `body`: from the vendor's own library where it has one. */
  sign: (body: string) => Promise<Record<string, string>> | Record<string, string>;
}

/**
 * A payload naming the customer, with the fields where the vendor's scheme reads the event's id and
 * time (docs/senders.md; each vendor's documented payload in tests/fixtures/vendors/webhooks/).
 */
const lost = (vendorFields: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'lost', email: 'ada@example.com', ...vendorFields });
const now = new Date();
const unixSeconds = Math.floor(now.getTime() / 1000);
const deliveries: Delivery[] = [
  {
    source: 'stripe',
    body: lost({ id: 'evt_1NG8Du2eZvKYlo2CUI79vXWy', object: 'event', created: unixSeconds }),
    sign: (body) => ({
      'Stripe-Signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret: secretOf('stripe') }),
    }),
  },
  {
    source: 'calendly',
    body: lost({ created_at: now.toISOString() }),
    sign: (body) => signWebhook(verifyOf('calendly'), secretOf('calendly'), body),
  },
  {
    source: 'paddle',
    body: lost({ event_id: 'evt_01hv90vbenb5d4spnjbbcfh3nk', occurred_at: now.toISOString() }),
    sign: (body) => signWebhook(verifyOf('paddle'), secretOf('paddle'), body),
  },
  {
    source: 'hubspot',
    body: JSON.stringify([
      {
        subscriptionType: 'deal.propertyChange',
        eventId: 3816279340,
        occurredAt: now.getTime(),
        email: 'ada@example.com',
      },
    ]),
    sign: (body) => {
      const timestamp = Date.now();
      const options = {
        signature: '',
        clientSecret: secretOf('hubspot'),
        requestBody: body,
        url: sourceUrl('hubspot'),
        timestamp,
      };
      return {
        'X-HubSpot-Signature-v3': Signature.getSignature('POST', 'v3', options),
        'X-HubSpot-Request-Timestamp': String(timestamp),
      };
    },
  },
  {
    source: 'helpcrunch',
    body: lost({ id: '73499e69-285c-44c3-8431-a843ed08183d', createdAt: unixSeconds }),
    sign: (body) => signWebhook(verifyOf('helpcrunch'), secretOf('helpcrunch'), body),
  },
  {
    source: 'github',
    body: `payload=${encodeURIComponent(lost())}`,
    contentType: 'application/x-www-form-urlencoded',
    sign: async (body) => ({ 'X-Hub-Signature-256': await signGitHub(secretOf('github'), body) }),
  },
  {
    source: 'shopify',
    body: lost(),
    // Shopify's delivery headers name the delivery and when it was triggered (tests/fixtures/vendors/webhooks/shopify.json).
    sign: (body) => ({
      ...signWebhook(verifyOf('shopify'), secretOf('shopify'), body),
      'X-Shopify-Webhook-Id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
      'X-Shopify-Triggered-At': now.toISOString(),
    }),
  },
  {
    source: 'clerk',
    // Clerk's payload `timestamp` is in milliseconds (tests/fixtures/vendors/webhooks/svix.json).
    body: lost({ timestamp: now.getTime() }),
    sign: (body) => {
      const id = 'msg_2pQZmC1y6nDq4kS8wX3vR0tL9aB';
      const signature = new Svix(secretOf('clerk')).sign(id, new Date(), body);
      return { 'svix-id': id, 'svix-timestamp': String(Math.floor(Date.now() / 1000)), 'svix-signature': signature };
    },
  },
  {
    source: 'intercom',
    body: lost(),
    sign: (body) => signWebhook(verifyOf('intercom'), secretOf('intercom'), body),
  },
];

let sandbox: HelpCrunchSandbox;
let secretsEndpoint: SecretsManagerEndpoint;
let handler: (event: unknown, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let output: CapturedOutput;
let ledger: LocalLedger;

beforeAll(async () => {
  sandbox = await startHelpCrunchSandbox({ apiKey: API_KEY });
  secretsEndpoint = await startSecretsManagerEndpoint({ secrets: { 'helpcrunch-untag/api-key': API_KEY, ...secrets } });
  ledger = await useLocalLedger();
  useLocalAws({
    secretsUrl: secretsEndpoint.url,
    helpcrunchUrl: sandbox.url,
    apiKeySecretId: 'helpcrunch-untag/api-key',
  });
  output = captureOutput();
  ({ handler } = (await import('../functions/webhook')) as unknown as { handler: typeof handler });
});

afterAll(async () => {
  output.restore();
  await sandbox.close();
  await secretsEndpoint.close();
});

// Every sender's event is new to the ledger, and finds no decision an earlier test's sender made.
beforeEach(async () => {
  sandbox.reset();
  await ledger.reset();
});

async function deliver({ source, contentType }: Delivery, body: string | Buffer, headers: Record<string, string>) {
  const event = webhookEvent('http-api', {
    source,
    body,
    headers: { ...headers, ...(contentType && { 'content-type': contentType }) },
  });
  const response = await handler(event as APIGatewayProxyEventV2, lambdaContext());
  return { status: response.statusCode, json: JSON.parse(response.body ?? 'null') };
}

const helpcrunchCalls = () => sandbox.requests.map((r) => `${r.method} ${r.path}`);

describe.each(deliveries)('$source', (delivery) => {
  it('untags the customer of a genuine delivery', async () => {
    const response = await deliver(delivery, delivery.body, await delivery.sign(delivery.body));

    expect(response).toEqual({
      status: 200,
      json: {
        results: [
          { rule: `${delivery.source}-lost`, customerId: 1001, removed: ['Lead'], added: [], status: 'untagged' },
        ],
      },
    });
    expect(sandbox.customer(1001)?.tags.map((tag) => tag.name)).toEqual(['Trial user']);
  });

  it('answers 401 for the same delivery with one body byte changed, and never calls HelpCrunch', async () => {
    const response = await deliver(delivery, tampered(delivery.body), await delivery.sign(delivery.body));

    expect(response).toEqual({
      status: 401,
      json: { errors: [{ code: 'invalid_signature', message: expect.any(String) }] },
    });
    expect(helpcrunchCalls()).toEqual([]);
    expect(output.text()).not.toContain(secretOf(delivery.source));
  });
});

describe('timestamps', () => {
  it('answers 401 timestamp_out_of_tolerance for a stale Stripe delivery, without calling HelpCrunch', async () => {
    const stale = Math.floor(Date.now() / 1000) - 301;
    const stripe = deliveries[0]!;
    const header = Stripe.webhooks.generateTestHeaderString({
      payload: stripe.body,
      secret: secretOf('stripe'),
      timestamp: stale,
    });
    const response = await deliver(stripe, stripe.body, { 'Stripe-Signature': header });

    expect(response.status).toBe(401);
    expect(response.json.errors[0].code).toBe('timestamp_out_of_tolerance');
    expect(helpcrunchCalls()).toEqual([]);
  });
});
