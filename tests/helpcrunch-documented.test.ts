/**
 * HelpCrunch as its docs show it (tests/fixtures/helpcrunch/): the client reads the documented
 * answers, served verbatim by the sandbox as scripted answers, and the sandbox's own answers have
 * the documented shapes, key for key.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BadEventError, ConfigError } from '../lib/errors';
import { createHelpCrunchClient, tagNames, type HelpCrunchCustomer } from '../lib/helpcrunch/client';
import { executeUnits } from '../lib/pipeline';
import { RetryBudget } from '../lib/http/retry';
import { startHelpCrunchSandbox, type HelpCrunchSandbox } from '../local/sandbox/helpcrunch-sandbox';
import { documented } from './support/helpcrunch-fixtures';
import { pipelineWith, unitsFor } from './support/pipeline';

const KEY = 'documented-key';
const budget = () => RetryBudget.until(Date.now() + 10_000);
const within = () => ({ budget: budget() });
const customer = documented<HelpCrunchCustomer & Record<string, unknown>>('customer.json');
const list = documented<{ data: Record<string, unknown>[]; total: number }>('customers-list-200.json');

describe('the client reads HelpCrunch’s documented answers', () => {
  let sandbox: HelpCrunchSandbox;
  const client = () =>
    createHelpCrunchClient({
      baseUrl: sandbox.url,
      apiKey: { get: async () => KEY },
      retryPolicy: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
    });
  /** Serves these answers verbatim, in order, whatever the request. */
  const serve = (...answers: { status: number; body: unknown }[]) => sandbox.script('*', ...answers);

  beforeEach(async () => {
    sandbox = await startHelpCrunchSandbox({ apiKey: KEY });
  });
  afterEach(() => sandbox.close());

  it('Search customers: the list’s customers with their `tags`, paging by the top-level `total`', async () => {
    serve({ status: 200, body: list }, { status: 200, body: { data: [], total: 256 } });
    const { customers } = await client().searchCustomers('email', 'john@example.com', within());

    expect(customers.map((found) => found.id)).toEqual([542335]);
    expect(tagNames(customers[0]!)).toEqual(new Set(['vip']));
    // total 256 with one customer on the page: the client asks for the next page at offset 1.
    expect(sandbox.requests.map((request) => (request.body as { offset: number }).offset)).toEqual([0, 1]);
  });

  it('skips the DELETE when the documented search answer shows the customer carries none of the tags', async () => {
    serve({ status: 200, body: { ...list, total: 1 } });
    const { outcomes } = await executeUnits(
      unitsFor([
        { rule: 'lead-lost', customer: { by: 'email', value: 'john@example.com' }, removeTags: ['Lead'], addTags: [] },
      ]),
      await pipelineWith(client()),
      budget(),
    );

    expect(outcomes).toMatchObject([{ customerId: 542335, status: 'skipped', reason: 'tags_absent' }]);
    expect(sandbox.requests.map((request) => request.method)).toEqual(['POST']);
  });

  it('deletes only the tags the documented customer carries', async () => {
    serve({ status: 200, body: { ...list, total: 1 } }, { status: 200, body: customer });
    const { outcomes } = await executeUnits(
      unitsFor([
        {
          rule: 'churn',
          customer: { by: 'userId', value: 'user_1234567890' },
          removeTags: ['vip', 'Lead'],
          addTags: [],
        },
      ]),
      await pipelineWith(client()),
      budget(),
    );

    expect(outcomes).toMatchObject([{ customerId: 542335, status: 'untagged' }]);
    expect(sandbox.requests[1]).toMatchObject({
      method: 'DELETE',
      path: '/v1/customers/542335/tags',
      body: { tags: [{ name: 'vip' }] },
    });
  });

  it('Untag customer: 200 with the customer is done', async () => {
    serve({ status: 200, body: customer });
    expect(await client().untagCustomer(542335, ['vip'], within())).toEqual({ found: true, requests: 1 });
  });

  it('Untag customer: the documented 404 is "customer not found"', async () => {
    serve({ status: 404, body: documented('error-404.json') });
    expect(await client().untagCustomer(542335, ['vip'], within())).toEqual({ found: false, requests: 1 });
  });

  it('Untag customer: the documented 400 is a bad event, its reasons kept for the logs', async () => {
    serve({ status: 400, body: documented('error-400.json') });
    const error = await client()
      .untagCustomer(542335, ['vip'], within())
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(BadEventError);
    expect(error).toMatchObject({
      code: 'helpcrunch_bad_request',
      message: 'HelpCrunch rejected the request (400)',
      detail: expect.stringContaining('customer: This value should be of type numeric.'),
    });
  });

  it('Untag customer: the documented 401, twice, is a rejected key', async () => {
    serve({ status: 401, body: documented('error-401.json') }, { status: 401, body: documented('error-401.json') });
    const error = await client()
      .untagCustomer(542335, ['vip'], within())
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'api_key_rejected' });
  });

  it('Untag customer: the documented 429 is retried', async () => {
    serve({ status: 429, body: documented('error-429.json') }, { status: 200, body: customer });
    expect(await client().untagCustomer(542335, ['vip'], within())).toEqual({ found: true, requests: 2 });
  });

  it('Tag customer: sends the documented request shape, and the 200 with the customer is done', async () => {
    serve({ status: 200, body: customer });
    const request = documented<{ tags: { name: string }[] }>('tag-customer-request.json');

    expect(await client().tagCustomer(542335, ['Lead'], within())).toEqual({ found: true, requests: 1 });
    // The documented body without the optional color: the tag is created in HelpCrunch's default color.
    expect(sandbox.requests[0]).toMatchObject({
      method: 'PUT',
      path: '/v1/customers/542335/tags',
      body: { tags: request.tags.map(({ name }) => ({ name })) },
    });
  });

  it('Tag customer: the documented 404 is "customer not found"', async () => {
    serve({ status: 404, body: documented('error-404.json') });
    expect(await client().tagCustomer(542335, ['Lead'], within())).toEqual({ found: false, requests: 1 });
  });

  it('skips the PUT when the documented search answer shows the customer carries every tag to add', async () => {
    serve({ status: 200, body: { ...list, total: 1 } });
    const { outcomes } = await executeUnits(
      unitsFor([
        { rule: 'vip', customer: { by: 'email', value: 'john@example.com' }, removeTags: [], addTags: ['vip'] },
      ]),
      await pipelineWith(client()),
      budget(),
    );

    expect(outcomes).toMatchObject([{ customerId: 542335, status: 'skipped', reason: 'tags_present' }]);
    expect(sandbox.requests.map((request) => request.method)).toEqual(['POST']);
  });
});

describe('the sandbox answers in HelpCrunch’s documented shapes', () => {
  let sandbox: HelpCrunchSandbox;

  beforeAll(async () => {
    sandbox = await startHelpCrunchSandbox({ apiKey: KEY, rateLimit: { requests: 9, windowMs: 60_000 } });
  });
  afterAll(() => sandbox.close());

  async function call(method: string, path: string, body?: unknown, key = KEY) {
    const response = await fetch(`${sandbox.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const keysOf = (value: unknown) => Object.keys(value as object).sort();

  /** Same keys as the documented customer, in its nested location and tags too. */
  function expectDocumentedCustomer(actual: Record<string, unknown>) {
    expect(keysOf(actual)).toEqual(keysOf(customer));
    expect(keysOf(actual.location)).toEqual(keysOf(customer.location));
    expect(actual.tags).toBeInstanceOf(Array);
    for (const tag of actual.tags as unknown[]) expect(keysOf(tag)).toEqual(keysOf(customer.tags![0]));
  }

  function expectDocumentedList(actual: Record<string, unknown>) {
    expect(keysOf(actual)).toEqual(keysOf(list));
    expect(typeof actual.total).toBe('number');
    for (const entry of actual.data as Record<string, unknown>[]) expectDocumentedCustomer(entry);
  }

  function expectDocumentedError(
    actual: Record<string, unknown>,
    file: 'error-400.json' | 'error-401.json' | 'error-404.json' | 'error-429.json',
  ) {
    const errors = actual.errors as { code: string; message: string }[];
    const expected = documented<{ errors: { code: string }[] }>(file).errors;
    expect(keysOf(actual)).toEqual(['errors']);
    for (const entry of errors) expect(keysOf(entry)).toEqual(['code', 'message']);
    expect(errors[0]).toEqual({ code: 'invalid_request', message: 'Invalid request' });
    // 400s name the field at fault; the others a reason, the documented one.
    if (file !== 'error-400.json')
      expect(errors.map((entry) => entry.code)).toEqual(expected.map((entry) => entry.code));
  }

  it('Get all customers and Search customers: {data: [customer], total}', async () => {
    expectDocumentedList((await call('GET', '/customers')).body);
    const search = await call('POST', '/customers/search', {
      filter: [{ field: 'customers.email', operator: '=', value: 'ada@example.com' }],
    });
    expect((search.body.data as unknown[]).length).toBe(1);
    expectDocumentedList(search.body);
  });

  it('Search customers: customers.tagsData takes [{name}] and finds the customers carrying all of them', async () => {
    const search = await call('POST', '/customers/search', {
      filter: [{ field: 'customers.tagsData', operator: '=', value: [{ name: 'Subscriber' }, { name: 'VIP' }] }],
    });
    expect((search.body.data as { id: number }[]).map((found) => found.id)).toEqual([1002, 1004]);
  });

  it('Tag customer takes the documented request, color included', async () => {
    const tagged = await call('PUT', '/customers/1003/tags', documented('tag-customer-request.json'));
    expect(tagged.status).toBe(200);
    expectDocumentedCustomer(tagged.body);
    expect(tagged.body.tags).toContainEqual({ name: 'Lead', color: '#c57de0' });
  });

  it('Get a customer, Tag customer (PUT) and Untag customer (DELETE): the customer', async () => {
    expectDocumentedCustomer((await call('GET', '/customers/1001')).body);
    const tagged = await call('PUT', '/customers/1001/tags', { tags: [{ name: 'Black Friday' }] });
    expect(tagged.status).toBe(200);
    expectDocumentedCustomer(tagged.body);
    // "If you don't specify it, the default #c377e0 color will be applied."
    expect(tagged.body.tags).toContainEqual({ name: 'Black Friday', color: '#c377e0' });
    const untagged = await call('DELETE', '/customers/1001/tags', { tags: [{ name: 'Black Friday' }] });
    expect(untagged.status).toBe(200);
    expectDocumentedCustomer(untagged.body);
  });

  it('errors: 400, 401, 404 and 429 in the documented error body', async () => {
    const badId = await call('DELETE', '/customers/abc/tags', { tags: [{ name: 'x' }] });
    expect(badId.status).toBe(400);
    expectDocumentedError(badId.body, 'error-400.json');
    expect((badId.body.errors as unknown[])[1]).toEqual(documented<{ errors: unknown[] }>('error-400.json').errors[1]);

    const wrongKey = await call('GET', '/customers', undefined, 'not-the-key');
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.body).toEqual(documented('error-401.json'));

    const unknown = await call('DELETE', '/customers/999999/tags', { tags: [{ name: 'x' }] });
    expect(unknown.status).toBe(404);
    expectDocumentedError(unknown.body, 'error-404.json');

    let limited: Awaited<ReturnType<typeof call>>;
    do limited = await call('GET', '/customers');
    while (limited.status !== 429);
    expect(limited.body).toEqual(documented('error-429.json'));
  });
});
