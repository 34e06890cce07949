/**
 * The local stack end to end over real HTTP on random ports: the function host in front of the
 * bundled functions, the HelpCrunch sandbox and the local Secrets Manager, as `npm start` runs them.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { banner } from '../local/host/banner';
import { loadSamples } from '../local/host/samples';
import { LOCAL_API_KEY_SECRET_ID } from '../local/host/function-env';
import { startLocalStack, type LocalStack } from '../local/host/local-stack';
import { startHelpCrunchSandbox, type HelpCrunchSandbox } from '../local/sandbox/helpcrunch-sandbox';
import { startSecretsManagerEndpoint, type SecretsManagerEndpoint } from '../local/sandbox/secrets-manager-endpoint';
import { SUITE_RULES } from './support/suite-rules';

const CRM_SECRET_ID = 'helpcrunch-untag/crm-webhook';

let stack: LocalStack;
let logged: string[];

beforeAll(async () => {
  logged = [];
  // A 3 s webhook timeout leaves a 1.5 s budget after TIME_BUDGET_MARGIN_MS, so a slow HelpCrunch shows quickly.
  // Inline dispatch: these tests are about the host and the functions' direct path (queue mode: local-queue.test.ts).
  stack = await startLocalStack({
    env: {},
    rulesFile: SUITE_RULES,
    dispatch: 'inline',
    timeoutsMs: { webhook: 3_000 },
    write: (text) => logged.push(text),
  });
});

afterAll(() => stack?.close());

// Each test's events are new to the ledger, and find no decision of another test's.
beforeEach(async () => {
  stack.sandbox!.reset();
  await stack.dynamoDb.clear();
  logged.length = 0;
});

const tagsOf = (id: number) => stack.sandbox!.customer(id)?.tags.map((tag) => tag.name);

function crmSignature(body: string): string {
  return `sha256=${createHmac('sha256', stack.secrets[CRM_SECRET_ID]!).update(body).digest('hex')}`;
}

async function post(path: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const response = await fetch(`${stack.hostUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as unknown };
}

const lostDeal = JSON.stringify({ status: 'lost', person: { email: 'ada@example.com' } });

describe('startLocalStack', () => {
  it('starts the sandbox, the vendor API stand-ins and a Secrets Manager holding its key, a demo secret per webhook source and the stand-ins’ keys for the lookups', () => {
    expect(stack.target).toEqual({ kind: 'sandbox' });
    expect(stack.hostUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Object.keys(stack.secrets).sort()).toEqual(
      [
        LOCAL_API_KEY_SECRET_ID,
        'helpcrunch-untag/billing-webhook',
        CRM_SECRET_ID,
        'helpcrunch-untag/stripe-webhook',
        'helpcrunch-untag/stripe-api-key',
      ].sort(),
    );
    expect(stack.secrets[LOCAL_API_KEY_SECRET_ID]).toBe(stack.sandbox!.apiKey);
    expect(stack.secrets['helpcrunch-untag/stripe-api-key']).toBe(stack.vendorApis!.keys.stripe);
  });

  it('reads the key through the real SDK from the local Secrets Manager, without touching this process', async () => {
    await post('/webhooks/crm', lostDeal, { 'x-signature': crmSignature(lostDeal) });

    // Each function reads its secrets once, from init on: the API key in both (inline dispatch), the signing secrets in the webhook's.
    await vi.waitFor(
      () =>
        expect(stack.secretsManager!.calls().bySecret).toMatchObject({
          [LOCAL_API_KEY_SECRET_ID]: 2,
          [CRM_SECRET_ID]: 1,
        }),
      { timeout: 5_000 },
    );
    expect(process.env.HELPCRUNCH_API_URL).toBeUndefined();
    expect(process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER).toBeUndefined();
  });
});

describe('POST /webhooks/<source>', () => {
  it('runs the webhook function on a signed request: tags removed, its reply returned as sent', async () => {
    const response = await post('/webhooks/crm', lostDeal, { 'x-signature': crmSignature(lostDeal) });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('apigw-requestid')).toMatch(/^[A-Za-z0-9+/]{14}==$/);
    expect(response.json()).toEqual({
      results: [
        { rule: 'deal-lost', customerId: 1001, removed: ['Lead', 'Trial user'], added: [], status: 'untagged' },
      ],
    });
    expect(tagsOf(1001)).toEqual([]);
  });

  it('prints one readable line per job and one per request, never a secret', async () => {
    await post('/webhooks/crm', lostDeal, { 'x-signature': crmSignature(lostDeal) });

    await expect
      .poll(() => logged.join(''))
      .toMatch(/✓ untagged {5}deal-lost {2}customer 1001 {2}− Lead, Trial user {2}2 requests {2}\d+ ms/);
    expect(logged.join('')).toMatch(/POST \/webhooks\/crm → 200 {2}\d+ ms/);
    const text = logged.join('');
    for (const secret of Object.values(stack.secrets)) expect(text).not.toContain(secret);
  });

  it.each([
    ['an unknown source', '/webhooks/nope', lostDeal, {}, 404, 'unknown_source'],
    ['a missing signature', '/webhooks/crm', lostDeal, {}, 401, 'missing_signature'],
    ['a wrong signature', '/webhooks/crm', lostDeal, { 'x-signature': 'sha256=00' }, 401, 'invalid_signature'],
    ['a body that is not JSON', '/webhooks/crm', 'not json', 'sign', 400, 'invalid_json'],
    ['a body over MAX_BODY_BYTES', '/webhooks/crm', 'x'.repeat(256 * 1024 + 1), 'sign', 413, 'payload_too_large'],
  ] as const)('answers %s as the function does in Lambda', async (_, path, body, headers, status, code) => {
    const signed = headers === 'sign' ? { 'x-signature': crmSignature(body) } : headers;
    const response = await post(path, body, signed);

    expect(response.status).toBe(status);
    expect(response.json()).toMatchObject({ errors: [{ code }] });
    expect(stack.sandbox!.stats().total).toBe(0);
  });

  it('routes GET /webhooks/<source> as the deployed API does: a source without answerGet answers 405', async () => {
    const response = await fetch(`${stack.hostUrl}/webhooks/crm`);

    expect(response.status).toBe(405);
    expect(await response.json()).toMatchObject({ errors: [{ code: 'method_not_allowed' }] });
    expect(stack.sandbox!.stats().total).toBe(0);
  });

  it.each([
    ['PUT', '/webhooks/crm'],
    ['POST', '/webhooks/'],
    ['POST', '/webhooks/crm/extra'],
    ['POST', '/'],
  ])('answers %s %s like an unrouted HTTP API request: 404 {"message":"Not Found"}', async (method, path) => {
    const response = await fetch(`${stack.hostUrl}${path}`, { method, ...(method !== 'GET' && { body: '{}' }) });

    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ message: 'Not Found' });
  });

  it("refuses a body over HTTP API's 10 MB limit with API Gateway's 413", async () => {
    const response = await post('/webhooks/crm', Buffer.alloc(10 * 1024 * 1024 + 1, 32));

    expect(response.status).toBe(413);
    expect(response.json()).toEqual({ message: 'Request Entity Too Large' });
  });

  it('gives the function the configured timeout as its budget: a stalled HelpCrunch gets a 503 in time', async () => {
    stack.sandbox!.setFaults({ latencyMs: 10_000 });
    const started = Date.now();

    const response = await post('/webhooks/crm', lostDeal, { 'x-signature': crmSignature(lostDeal) });

    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('POST /events', () => {
  const cancelled = {
    source: 'billing.app',
    'detail-type': 'Subscription Cancelled',
    detail: { account: { id: 'u-grace' } },
  };

  it('delivers {source, detail-type, detail} to the EventBridge function and answers its result', async () => {
    const response = await post('/events', JSON.stringify(cancelled));

    expect(response.status).toBe(200);
    expect(response.json()).toEqual({
      results: [{ rule: 'churned', customerId: 1002, removed: ['Subscriber'], added: [], status: 'untagged' }],
    });
    expect(tagsOf(1002)).toEqual(['VIP']);
  });

  it('takes a whole EventBridge event as well', async () => {
    const event = {
      version: '0',
      id: 'e-1',
      account: '123456789012',
      time: '2026-11-24T08:00:00Z',
      region: 'us-east-1',
      resources: [],
      ...cancelled,
    };
    const response = await post('/events', JSON.stringify(event));

    expect(response.status).toBe(200);
    expect(tagsOf(1002)).toEqual(['VIP']);
  });

  it("answers a rejected event with 500 and Lambda's error shape", async () => {
    const response = await post('/events', JSON.stringify({ ...cancelled, detail: { account: {} } }));

    expect(response.status).toBe(500);
    expect(response.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(response.json()).toEqual({
      errorType: 'EventRejectedError',
      errorMessage: expect.stringMatching(/^not retryable: invalid_customer: /),
    });
    await expect.poll(() => logged.join('')).toContain('✗ rejected not retryable: invalid_customer');
  });

  it.each([
    ['not JSON', 'nope', 'Body is not valid JSON'],
    ['an array', '[]', 'Body must be an EventBridge event'],
    ['no source', JSON.stringify({ 'detail-type': 'X', detail: {} }), '"source" must be a non-empty string'],
    ['no detail-type', JSON.stringify({ source: 'billing.app', detail: {} }), '"detail-type" must be a string'],
    [
      'a detail that is not an object',
      JSON.stringify({ source: 'billing.app', 'detail-type': 'X', detail: 'x' }),
      '"detail" must be a JSON object',
    ],
  ])('answers 400 for a body that is %s, without calling the function', async (_, body, message) => {
    const response = await post('/events', body);

    expect(response.status).toBe(400);
    expect((response.json() as { message: string }).message).toContain(message);
    expect(stack.sandbox!.stats().total).toBe(0);
  });
});

describe('against a real HelpCrunch (HELPCRUNCH_API_URL set)', () => {
  // Stand-ins for the real services: to the stack they are just URLs from the environment.
  let real: { helpcrunch: HelpCrunchSandbox; secretsManager: SecretsManagerEndpoint; stack: LocalStack };

  beforeAll(async () => {
    const helpcrunch = await startHelpCrunchSandbox({ apiKey: 'real-key-1234' });
    const secretsManager = await startSecretsManagerEndpoint({ secrets: { 'prod/helpcrunch-key': 'real-key-1234' } });
    const env = {
      HELPCRUNCH_API_URL: helpcrunch.url,
      HELPCRUNCH_API_KEY_SECRET_ID: 'prod/helpcrunch-key',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.url,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'example',
    };
    real = {
      helpcrunch,
      secretsManager,
      stack: await startLocalStack({ env, rulesFile: SUITE_RULES, dispatch: 'inline', write: () => undefined }),
    };
  });

  afterAll(async () => {
    await real?.stack.close();
    await real?.helpcrunch.close();
    await real?.secretsManager.close();
  });

  it('starts no sandbox and no Secrets Manager, and calls the configured ones with the configured secret', async () => {
    expect(real.stack.target).toEqual({
      kind: 'external',
      apiUrl: real.helpcrunch.url,
      apiKeySecretId: 'prod/helpcrunch-key',
    });
    expect(real.stack.sandbox).toBeUndefined();
    expect(real.stack.secretsManager).toBeUndefined();

    const response = await fetch(`${real.stack.hostUrl}/events`, {
      method: 'POST',
      body: JSON.stringify({
        source: 'billing.app',
        'detail-type': 'Subscription Cancelled',
        detail: { account: { id: 'u-grace' } },
      }),
    });

    expect(response.status).toBe(200);
    expect(real.helpcrunch.customer(1002)?.tags.map((tag) => tag.name)).toEqual(['VIP']);
    // Read once per function, from init on (both call HelpCrunch inline).
    await vi.waitFor(() => expect(real.secretsManager.calls().bySecret).toMatchObject({ 'prod/helpcrunch-key': 2 }), {
      timeout: 5_000,
    });
  });

  it('prints a banner with no ready-made commands, since they would change real customers', () => {
    const text = banner(real.stack, loadSamples(SUITE_RULES, real.stack.rules));

    expect(text).toContain(`running locally against ${real.helpcrunch.url}`);
    expect(text).toContain('prod/helpcrunch-key');
    expect(text).not.toContain('curl');
  });
});
