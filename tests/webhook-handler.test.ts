/**
 * The webhook function end to end: the real handler module with the shipped rules.yml, the
 * HelpCrunch sandbox and a Secrets Manager endpoint on loopback, reached through the real SDK.
 */
import { createHmac } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHelpCrunchSandbox, type HelpCrunchSandbox } from '../local/sandbox/helpcrunch-sandbox';
import { startSecretsManagerEndpoint, type SecretsManagerEndpoint } from '../local/sandbox/secrets-manager-endpoint';
import { badBatches, refusalOf, signedBatch } from './support/bad-batches';
import { lambdaContext, webhookEvent, type HttpTrigger } from './support/lambda-events';
import { useLocalLedger, type LocalLedger } from './support/ledger';
import { billingRequest } from './support/suite-events';
import { captureOutput, useLocalAws, type CapturedOutput } from './support/local-aws';

const API_KEY = 'hc-live-key-5f1e0c2a9b';
const CRM_SECRET = 'crm-signing-secret-7d3b';
const BILLING_SECRET = `whsec_${Buffer.from('billing-signing-secret-0123456789').toString('base64')}`;
const STRIPE_SECRET = 'whsec_0b7d3f9a1c5e2468ace13579bdf0aa11';
const signingSecrets = { crm: CRM_SECRET, stripe: STRIPE_SECRET };

let sandbox: HelpCrunchSandbox;
let secrets: SecretsManagerEndpoint;
let handler: (event: unknown, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let output: CapturedOutput;
let ledger: LocalLedger;

beforeAll(async () => {
  sandbox = await startHelpCrunchSandbox({ apiKey: API_KEY });
  secrets = await startSecretsManagerEndpoint({
    secrets: {
      'helpcrunch-untag/api-key': JSON.stringify({ apiKey: `${API_KEY}\n` }),
      'helpcrunch-untag/crm-webhook': CRM_SECRET,
      'helpcrunch-untag/billing-webhook': BILLING_SECRET,
      'helpcrunch-untag/stripe-webhook': STRIPE_SECRET,
    },
  });
  ledger = await useLocalLedger();
  useLocalAws({
    secretsUrl: secrets.url,
    helpcrunchUrl: sandbox.url,
    apiKeySecretId: 'helpcrunch-untag/api-key',
    // Events must stay out of the logs even when this asks for them.
    env: { POWERTOOLS_LOGGER_LOG_EVENT: 'true', MAX_JOBS_PER_REQUEST: '5' },
  });
  output = captureOutput();
  ({ handler } = (await import('../functions/webhook')) as unknown as { handler: typeof handler });
});

afterAll(async () => {
  output.restore();
  await sandbox.close();
  await secrets.close();
});

// Each test's events are new to the ledger, and find no decision of another test's.
beforeEach(async () => {
  sandbox.reset();
  await ledger.reset();
});

const sign = (body: string, secret = CRM_SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

function crmEvent(
  payload: unknown,
  trigger: HttpTrigger = 'http-api',
  options: { signature?: string; base64?: boolean } = {},
) {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return webhookEvent(trigger, {
    source: 'crm',
    body,
    base64: options.base64,
    headers: { 'X-Signature': options.signature ?? sign(body) },
  });
}

/** A Standard Webhooks delivery to the billing source: `id` its webhook-id, `occurredAt` its payload's time. */
const billingEvent = (id: string, options?: Parameters<typeof billingRequest>[2]) =>
  webhookEvent('http-api', billingRequest(BILLING_SECRET, id, options));

async function invoke(event: unknown, context = lambdaContext()) {
  const response = await handler(event, context);
  return { ...response, json: JSON.parse(response.body ?? 'null') };
}

const tagsOf = (id: number) => sandbox.customer(id)?.tags.map((tag) => tag.name);
const helpcrunchCalls = () => sandbox.requests.map((r) => `${r.method} ${r.path}`);

/** The JSON lines (log lines, and EMF metrics under `_aws`) written since `mark` characters of output. */
const jsonLinesSince = (mark: number) =>
  output
    .text()
    .slice(mark)
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, any>);
/** The names of the EMF metrics written since `mark`. */
const metricsSince = (mark: number) =>
  jsonLinesSince(mark)
    .filter((line) => line._aws)
    .flatMap((line) => line._aws.CloudWatchMetrics.flatMap((set: { Metrics: { Name: string }[] }) => set.Metrics))
    .map((metric: { Name: string }) => metric.Name);

describe('200: processed', () => {
  it.each<HttpTrigger>(['http-api', 'rest-api', 'function-url'])(
    'removes the tags for a signed %s event',
    async (trigger) => {
      const response = await invoke(crmEvent({ status: 'lost', person: { email: 'ada@example.com' } }, trigger));

      expect(response.statusCode).toBe(200);
      expect(response.headers?.['content-type']).toBe('application/json');
      expect(response.json).toEqual({
        results: [
          { rule: 'deal-lost', customerId: 1001, removed: ['Lead', 'Trial user'], added: [], status: 'untagged' },
        ],
      });
      expect(tagsOf(1001)).toEqual([]);
      expect(helpcrunchCalls()).toEqual(['POST /v1/customers/search', 'DELETE /v1/customers/1001/tags']);
    },
  );

  it('verifies and processes a base64-encoded body', async () => {
    const response = await invoke(
      crmEvent({ status: 'lost', person: { email: 'katherine@example.com' } }, 'rest-api', { base64: true }),
    );

    expect(response.statusCode).toBe(200);
    expect(tagsOf(1004)).toEqual(['Subscriber', 'VIP']);
  });

  it('answers an empty result and calls nobody when no rule matches', async () => {
    const response = await invoke(crmEvent({ status: 'won', person: { email: 'ada@example.com' } }));

    expect(response.statusCode).toBe(200);
    expect(response.json).toEqual({ results: [] });
    expect(helpcrunchCalls()).toEqual([]);
  });

  it('skips an unknown customer with reason customer_not_found', async () => {
    const response = await invoke(crmEvent({ status: 'lost', person: { email: 'nobody@example.com' } }));

    expect(response.statusCode).toBe(200);
    expect(response.json.results).toEqual([
      { rule: 'deal-lost', customerId: null, removed: [], added: [], status: 'skipped', reason: 'customer_not_found' },
    ]);
  });

  it('skips the DELETE when the customer carries none of the tags', async () => {
    const response = await invoke(crmEvent({ status: 'lost', person: { email: 'linus@example.com' } }));

    expect(response.json.results).toEqual([
      { rule: 'deal-lost', customerId: 1005, removed: [], added: [], status: 'skipped', reason: 'tags_absent' },
    ]);
    expect(helpcrunchCalls()).toEqual(['POST /v1/customers/search']);
  });

  it('treats a JSON array as a batch and matches each element on its own', async () => {
    const body = [
      { status: 'lost', person: { email: 'ada@example.com' } },
      { status: 'won', person: { email: 'grace@example.com' } },
      { status: 'lost', person: { email: 'alan@example.com' } },
    ];
    const response = await invoke(crmEvent(body));

    expect(response.statusCode).toBe(200);
    expect(response.json.results.map((r: { customerId: number }) => r.customerId)).toEqual([1001, 1003]);
    expect(tagsOf(1003)).toEqual([]);
  });

  it('checks standard-webhooks signatures for the billing source', async () => {
    const response = await invoke(billingEvent('msg_2x7Yb'));

    expect(response.statusCode).toBe(200);
    expect(response.json.results).toEqual([
      { rule: 'subscription-cancelled', customerId: 1002, removed: ['Subscriber'], added: [], status: 'untagged' },
    ]);
    expect(tagsOf(1002)).toEqual(['VIP']);
  });
});

describe('4xx: bad requests are refused before HelpCrunch is called', () => {
  it('400 for a body that is not JSON', async () => {
    const response = await invoke(crmEvent('{"status": "lost",'));

    expect(response.statusCode).toBe(400);
    expect(response.json.errors[0].code).toBe('invalid_json');
    expect(helpcrunchCalls()).toEqual([]);
  });

  it('400 for JSON that is not an object or an array of objects', async () => {
    const response = await invoke(crmEvent('[1, 2]'));

    expect(response.statusCode).toBe(400);
    expect(response.json.errors[0].code).toBe('invalid_payload');
  });

  it('400 naming the rule and field when a matched rule has no customer', async () => {
    const response = await invoke(
      crmEvent([
        { status: 'lost', person: { email: 'ada@example.com' } },
        { status: 'lost', person: {} },
      ]),
    );

    expect(response.statusCode).toBe(400);
    expect(response.json.errors[0].code).toBe('invalid_customer');
    expect(response.json.errors[0].message).toContain('deal-lost');
    expect(response.json.errors[0].message).toContain('person.email');
    // The valid first element is not half-processed: the whole batch is refused untouched.
    expect(helpcrunchCalls()).toEqual([]);
    expect(tagsOf(1001)).toEqual(['Lead', 'Trial user']);
  });

  it.each(badBatches)(
    '400 invalid_customer for a batch with $title, refused whole: nothing sent to HelpCrunch',
    async (batch) => {
      const response = await invoke(webhookEvent('http-api', signedBatch(batch, signingSecrets)));

      expect(response).toMatchObject(refusalOf(batch));
      expect(helpcrunchCalls()).toEqual([]);
      expect(tagsOf(1001)).toEqual(['Lead', 'Trial user']);
    },
  );

  it('401 for a wrong signature, without calling HelpCrunch', async () => {
    const response = await invoke(
      crmEvent({ status: 'lost', person: { email: 'ada@example.com' } }, 'http-api', { signature: sign('other body') }),
    );

    expect(response.statusCode).toBe(401);
    expect(response.json).toEqual({ errors: [{ code: 'invalid_signature', message: expect.any(String) }] });
    expect(helpcrunchCalls()).toEqual([]);
    expect(tagsOf(1001)).toEqual(['Lead', 'Trial user']);
  });

  it('401 for a missing signature', async () => {
    const event = webhookEvent('http-api', { source: 'crm', body: '{"status":"lost"}' });
    const response = await invoke(event);

    expect(response.statusCode).toBe(401);
    expect(response.json.errors[0].code).toBe('missing_signature');
  });

  it('404 for an unknown source', async () => {
    const response = await invoke(webhookEvent('http-api', { source: 'hubspot', body: '{}' }));

    expect(response.statusCode).toBe(404);
    expect(response.json.errors[0]).toEqual({ code: 'unknown_source', message: "Unknown webhook source 'hubspot'" });
  });

  it.each([
    ['function-url', 'GET'],
    ['rest-api', 'PUT'],
  ] as const)('405 with Allow: POST for a %s %s, before anything else is checked', async (trigger, method) => {
    const event = crmEvent({ status: 'lost', email: 'ada@example.com' }, trigger) as Record<string, any>;
    if (trigger === 'rest-api') event.httpMethod = method;
    else event.requestContext = { ...event.requestContext, http: { ...event.requestContext.http, method } };
    const response = await invoke(event);

    expect(response.statusCode).toBe(405);
    expect(response.headers).toMatchObject({ allow: 'POST' });
    expect(response.json.errors[0]).toEqual({
      code: 'method_not_allowed',
      message: `Webhooks are delivered with POST, not ${method}`,
    });
    expect(helpcrunchCalls()).toEqual([]);
  });

  it('413 too_many_jobs, naming the count and the limit, when a signed batch matches more jobs than MAX_JOBS_PER_REQUEST', async () => {
    const batch = Array.from({ length: 6 }, () => ({ status: 'lost', person: { email: 'ada@example.com' } }));
    const response = await invoke(crmEvent(batch));

    expect(response.statusCode).toBe(413);
    expect(response.json.errors[0]).toEqual({
      code: 'too_many_jobs',
      message:
        'The request matched 6 jobs; at most 5 are taken per request (MAX_JOBS_PER_REQUEST): send smaller batches',
    });
    expect(helpcrunchCalls()).toEqual([]);
    expect((await invoke(crmEvent(batch.slice(1)))).statusCode).toBe(200);
  });

  it('413 for a body over 256 KiB', async () => {
    const body = JSON.stringify({ status: 'lost', padding: 'x'.repeat(256 * 1024) });
    const response = await invoke(crmEvent(body));

    expect(response.statusCode).toBe(413);
    expect(response.json.errors[0].code).toBe('payload_too_large');
  });
});

describe('5xx: HelpCrunch or configuration trouble', () => {
  it('503 with Retry-After when HelpCrunch stays rate-limited past the time budget', async () => {
    sandbox.setFaults({ rate429: 1, retryAfter: 2 });
    // 3.5 s left, 1.5 s kept back: room for one attempt, not for a 2 s Retry-After wait.
    const response = await invoke(
      crmEvent({ status: 'lost', person: { email: 'ada@example.com' } }),
      lambdaContext(3500),
    );

    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBe('2');
    expect(response.json.errors[0].code).toBe('helpcrunch_unavailable');
    expect(sandbox.requests.length).toBe(1);
  });

  it('passes on a huge Retry-After only up to an hour', async () => {
    sandbox.setFaults({ rate429: 1, retryAfter: 10 ** 9 });
    const response = await invoke(crmEvent({ status: 'lost', person: { email: 'ada@example.com' } }));

    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBe('3600');
  });
});

describe('the same event again, or an older one (docs/delivery.md)', () => {
  it('answers 200 skipped duplicate_event for a replayed signed request, sending HelpCrunch nothing; JobsDuplicate counts it', async () => {
    // The same body and signature again, well within the 5-minute tolerance: a captured request replayed.
    const event = billingEvent('msg_replayed_1');
    expect((await invoke(event)).json.results).toEqual([
      { rule: 'subscription-cancelled', customerId: 1002, removed: ['Subscriber'], added: [], status: 'untagged' },
    ]);
    const sent = helpcrunchCalls();
    sandbox.reset();
    const mark = output.text().length;

    const replayed = await invoke(event);

    expect(replayed.statusCode).toBe(200);
    expect(replayed.json.results).toEqual([
      {
        rule: 'subscription-cancelled',
        customerId: 1002,
        removed: [],
        added: [],
        status: 'skipped',
        reason: 'duplicate_event',
      },
    ]);
    expect(sent).toEqual(['POST /v1/customers/search', 'DELETE /v1/customers/1002/tags']);
    expect(helpcrunchCalls()).toEqual([]);
    expect(tagsOf(1002)).toEqual(['Subscriber', 'VIP']);
    expect(metricsSince(mark)).toContain('JobsDuplicate');
  });

  it('skips an event older than the one that decided the tag as stale_event, its log line naming both events and their times; JobsStale counts it', async () => {
    const newer = Date.parse('2026-11-24T08:00:00.000Z');
    const older = newer - 60_000;
    expect((await invoke(billingEvent('msg_newer', { occurredAt: newer }))).json.results[0].status).toBe('untagged');
    const mark = output.text().length;

    const late = await invoke(billingEvent('msg_older', { occurredAt: older }));

    expect(late.json.results).toEqual([
      {
        rule: 'subscription-cancelled',
        customerId: 1002,
        removed: [],
        added: [],
        status: 'skipped',
        reason: 'stale_event',
      },
    ]);
    const skipped = jsonLinesSince(mark).find((line) => line.message === 'job skipped')!;
    expect(skipped.job).toMatchObject({
      reason: 'stale_event',
      event: { source: 'billing', id: 'msg_older', occurredAt: '2026-11-24T07:59:00.000Z' },
      newerEvent: { source: 'billing', id: 'msg_newer', occurredAt: '2026-11-24T08:00:00.000Z' },
    });
    expect(metricsSince(mark)).toContain('JobsStale');
  });
});

describe('secrets never leak', () => {
  it('no log line carries the API key, a signing secret, a signature, a token or credentials, even with POWERTOOLS_LOGGER_LOG_EVENT=true', async () => {
    expect(process.env.POWERTOOLS_LOGGER_LOG_EVENT).toBe('true');
    const body = JSON.stringify({ status: 'lost', person: { email: 'grace@example.com' } });
    const signature = sign(body);
    const basic = `Basic ${Buffer.from('pipedrive-user:pipedrive-pass-77').toString('base64')}`;
    const extra = { authorization: basic, 'x-api-token': 'token-value-5c1e' };
    const signed = webhookEvent('http-api', { source: 'crm', body, headers: { 'X-Signature': signature, ...extra } });
    const forged = webhookEvent('rest-api', {
      source: 'crm',
      body,
      headers: { 'X-Signature': sign('tampered'), ...extra },
    });
    expect((await invoke(signed)).statusCode).toBe(200);
    expect((await invoke(forged)).statusCode).toBe(401);

    const logs = output.text();
    expect(logs).toContain('"rule":"deal-lost"'); // the capture does see the handler's log lines
    expect(logs).not.toContain('Lambda invocation event');
    for (const secret of [
      API_KEY,
      CRM_SECRET,
      BILLING_SECRET,
      signature.slice(7),
      basic.slice(6),
      'pipedrive-pass-77',
      'token-value-5c1e',
      'Bearer ',
    ]) {
      expect(logs).not.toContain(secret);
    }
  });
});

describe('correlation ids', () => {
  const logLines = () =>
    output
      .text()
      .split('\n')
      .filter((line) => line.startsWith('{"level"'))
      .map((line) => JSON.parse(line) as { message: string; correlation_id?: string });

  it('an unverified request cannot set the logs’ correlation id: it is the gateway’s request id', async () => {
    const body = JSON.stringify({ status: 'lost', person: { email: 'ada@example.com' } });
    const event = webhookEvent('http-api', {
      source: 'crm',
      body,
      headers: { 'X-Signature': sign('tampered'), 'webhook-id': 'attacker-chosen-id' },
    });
    await invoke(event);

    const rejected = logLines()
      .filter((line) => line.message === 'webhook rejected')
      .at(-1)!;
    expect(rejected.correlation_id).toBe(event.requestContext.requestId);
    expect(output.text()).not.toContain('attacker-chosen-id');
  });

  it('a verified Standard Webhooks request is logged under its webhook-id', async () => {
    const id = 'msg_verified_41';
    expect((await invoke(billingEvent(id))).statusCode).toBe(200);

    const untagged = logLines()
      .filter((line) => line.message === 'job untagged')
      .at(-1)!;
    expect(untagged.correlation_id).toBe(id);
  });

  it('an invocation’s keys end with it: a request refused before its source is read logs no source', async () => {
    expect((await invoke(crmEvent({ status: 'lost', person: { email: 'ada@example.com' } }))).statusCode).toBe(200);
    // Refused while the body is decoded, before the webhook appends its source.
    const tooLarge = crmEvent(JSON.stringify({ padding: 'x'.repeat(256 * 1024) }));
    expect((await invoke(tooLarge)).statusCode).toBe(413);

    const [processed, refused] = logLines()
      .filter((line) => line.message === 'job untagged' || line.message === 'webhook rejected')
      .slice(-2) as { message: string; source?: string }[];
    expect(processed).toMatchObject({ message: 'job untagged', source: 'crm' });
    expect(refused).toMatchObject({ message: 'webhook rejected', correlation_id: tooLarge.requestContext.requestId });
    expect(refused).not.toHaveProperty('source');
  });
});
