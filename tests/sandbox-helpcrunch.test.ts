import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TAG_COLOR, helpCrunchCustomer } from '../local/sandbox/customer-store';
import { loadDemoCustomers } from '../local/sandbox/demo-customers';
import {
  DEFAULT_SANDBOX_API_KEY,
  RECORDED_BODY_BYTES,
  SANDBOX_ERRORS,
  startHelpCrunchSandbox,
} from '../local/sandbox/helpcrunch-sandbox';
import type {
  HelpCrunchSandbox,
  HelpCrunchSandboxOptions,
  RequestRecord,
  SandboxCustomer,
} from '../local/sandbox/helpcrunch-sandbox';

const API_KEY = 'test-key-0123456789';

const ADA: SandboxCustomer = {
  id: 1001,
  email: 'ada@example.com',
  userId: 'u-ada',
  name: 'Ada Lovelace',
  tags: [
    { name: 'Lead', color: '#2196f3' },
    { name: 'Trial user', color: '#ff9800' },
  ],
};
const GRACE: SandboxCustomer = {
  id: 1002,
  email: 'grace@example.com',
  userId: 'u-grace',
  name: 'Grace Hopper',
  tags: [
    { name: 'Subscriber', color: '#4caf50' },
    { name: 'VIP', color: '#9c27b0' },
  ],
};
const NOBODY: SandboxCustomer = { id: 1003, email: null, userId: null, name: null, tags: [] };

let sandbox: HelpCrunchSandbox | undefined;

afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start(options: HelpCrunchSandboxOptions = {}): Promise<HelpCrunchSandbox> {
  sandbox = await startHelpCrunchSandbox({ apiKey: API_KEY, customers: [ADA, GRACE, NOBODY], ...options });
  return sandbox;
}

interface CallOptions {
  /** Object bodies are sent as JSON, strings as they are. */
  body?: unknown;
  /** The Authorization header; null sends none. */
  authorization?: string | null;
}

async function call(method: string, path: string, { body, authorization = `Bearer ${API_KEY}` }: CallOptions = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== null) headers.authorization = authorization;
  const response = await fetch(`${sandbox!.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text) as unknown };
}

const search = (body: unknown) => call('POST', '/customers/search', { body });
/** A customer as HelpCrunch answers it: the sandbox's fields inside every documented key. */
const answered = (customer: SandboxCustomer) => helpCrunchCustomer(customer);
/** HelpCrunch's error body: the generic entry, then the reason. */
const helpCrunchError = (code: string, message: string) => ({
  errors: [
    { code: 'invalid_request', message: 'Invalid request' },
    { code, message },
  ],
});
const tagNames = (customer: SandboxCustomer | undefined) => customer?.tags.map((tag) => tag.name);

describe('startHelpCrunchSandbox', () => {
  it('listens on a random loopback port and exposes the /v1 base URL', async () => {
    const { url, port } = await start();
    expect(port).toBeGreaterThan(0);
    expect(url).toBe(`http://127.0.0.1:${port}/v1`);
  });

  it('seeds the demo customers and the default API key when none are given', async () => {
    sandbox = await startHelpCrunchSandbox();
    expect(sandbox.apiKey).toBe(DEFAULT_SANDBOX_API_KEY);
    expect(sandbox.customers()).toEqual(loadDemoCustomers());
    const response = await call('GET', '/customers/1001', { authorization: `Bearer ${DEFAULT_SANDBOX_API_KEY}` });
    expect(response.body).toMatchObject({ email: 'ada@example.com', userId: 'u-ada' });
  });
});

describe('DELETE /v1/customers/:id/tags', () => {
  it('removes the named tags and answers with the updated customer', async () => {
    await start();
    const response = await call('DELETE', '/customers/1001/tags', { body: { tags: [{ name: 'Lead' }] } });
    expect(response.status).toBe(200);
    expect(response.body).toEqual(answered({ ...ADA, tags: [{ name: 'Trial user', color: '#ff9800' }] }));
    expect(tagNames(sandbox!.customer(1001))).toEqual(['Trial user']);
  });

  it('matches names case-sensitively and ignores names the customer lacks', async () => {
    await start();
    const response = await call('DELETE', '/customers/1001/tags', {
      body: { tags: [{ name: 'lead' }, { name: 'VIP' }, { name: 'Trial user' }] },
    });
    expect(response.status).toBe(200);
    expect(tagNames(response.body as SandboxCustomer)).toEqual(['Lead']);
  });

  it('is idempotent: removing an absent tag again is still 200', async () => {
    await start();
    await call('DELETE', '/customers/1002/tags', { body: { tags: [{ name: 'VIP' }] } });
    const again = await call('DELETE', '/customers/1002/tags', { body: { tags: [{ name: 'VIP' }] } });
    expect(again.status).toBe(200);
    expect(tagNames(again.body as SandboxCustomer)).toEqual(['Subscriber']);
  });

  it('answers 404 not_found for an unknown customer', async () => {
    await start();
    const response = await call('DELETE', '/customers/999/tags', { body: { tags: [{ name: 'Lead' }] } });
    expect(response.status).toBe(404);
    expect(response.body).toEqual(helpCrunchError('not_found', 'Customer not found'));
    expect(response.body).toEqual(SANDBOX_ERRORS.customerNotFound.body);
  });

  it.each(['abc', '0', '-1', '1.5', '1e3', '01'])('answers 400 as documented for a non-numeric id %s', async (id) => {
    await start();
    const response = await call('DELETE', `/customers/${id}/tags`, { body: { tags: [{ name: 'Lead' }] } });
    expect(response.status).toBe(400);
    expect(response.body).toEqual(helpCrunchError('customer', 'This value should be of type numeric.'));
  });

  it('answers 400 invalid_json for a body that is not JSON, and changes nothing', async () => {
    await start();
    const response = await call('DELETE', '/customers/1001/tags', { body: '{"tags":[' });
    expect(response.status).toBe(400);
    expect(response.body).toEqual(helpCrunchError('body', 'This value should be valid JSON.'));
    expect(sandbox!.customer(1001)).toEqual(ADA);
  });

  it.each([
    ['no body', ''],
    ['a bare array', [{ name: 'Lead' }]],
    ['no tags', {}],
    ['empty tags', { tags: [] }],
    ['tags as strings', { tags: ['Lead'] }],
    ['a non-string name', { tags: [{ name: 7 }] }],
    ['an empty name', { tags: [{ name: '' }] }],
  ])('answers 400 for %s', async (_case, body) => {
    await start();
    const response = await call('DELETE', '/customers/1001/tags', { body });
    expect(response.status).toBe(400);
    const expected = body === '' ? SANDBOX_ERRORS.invalidJson : SANDBOX_ERRORS.invalidTags;
    expect(response.body).toEqual(expected.body);
    expect(sandbox!.customer(1001)).toEqual(ADA);
  });

  it('pins the exact invalid tags body', () => {
    expect(SANDBOX_ERRORS.invalidTags).toEqual({
      status: 400,
      body: helpCrunchError('tags', 'This value should be a non-empty list of {"name": "…"}.'),
    });
  });

  it('answers 413 payload_too_large for a body over 1 MiB and keeps serving', async () => {
    await start();
    const huge = JSON.stringify({ tags: [{ name: 'x'.repeat(1024 * 1024) }] });
    const response = await call('DELETE', '/customers/1001/tags', { body: huge });
    expect(response.status).toBe(413);
    expect(response.body).toEqual(helpCrunchError('body', 'This value is too large.'));
    expect((await call('GET', '/customers/1001')).status).toBe(200);
  });
});

describe('PUT /v1/customers/:id/tags', () => {
  it('adds missing tags, in HelpCrunch’s default color unless given one, keeps existing ones, and answers with the customer', async () => {
    await start();
    const response = await call('PUT', '/customers/1003/tags', {
      body: { tags: [{ name: 'VIP' }, { name: 'Lead', color: '#123456' }] },
    });
    expect(response.status).toBe(200);
    const customer = response.body as SandboxCustomer;
    expect(customer.tags).toEqual([
      { name: 'VIP', color: DEFAULT_TAG_COLOR },
      { name: 'Lead', color: '#123456' },
    ]);
    const again = await call('PUT', '/customers/1003/tags', { body: { tags: [{ name: 'VIP', color: '#000000' }] } });
    expect((again.body as SandboxCustomer).tags).toEqual(customer.tags);
    expect(answered(sandbox!.customer(1003)!)).toEqual(customer);
  });

  it('shares validation and 404 with DELETE', async () => {
    await start();
    expect((await call('PUT', '/customers/42/tags', { body: { tags: [{ name: 'A' }] } })).body).toEqual(
      SANDBOX_ERRORS.customerNotFound.body,
    );
    expect((await call('PUT', '/customers/1001/tags', { body: { tags: [] } })).body).toEqual(
      SANDBOX_ERRORS.invalidTags.body,
    );
  });
});

describe('GET /v1/customers and /v1/customers/:id', () => {
  it('returns one customer', async () => {
    await start();
    const response = await call('GET', '/customers/1002');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.body).toEqual(answered(GRACE));
  });

  it('answers 404 and 400 for unknown and non-numeric ids', async () => {
    await start();
    expect(await call('GET', '/customers/5')).toMatchObject({
      status: 404,
      body: SANDBOX_ERRORS.customerNotFound.body,
    });
    expect(await call('GET', '/customers/ada')).toMatchObject({ status: 400, body: SANDBOX_ERRORS.invalidId.body });
  });

  it('lists customers by id with limit/offset and the total', async () => {
    await start({ customers: [GRACE, NOBODY, ADA] });
    const all = await call('GET', '/customers');
    expect(all.body).toEqual({ data: [ADA, GRACE, NOBODY].map(answered), total: 3 });
    const page = await call('GET', '/customers?limit=1&offset=1');
    expect(page.body).toEqual({ data: [answered(GRACE)], total: 3 });
    const capped = await call('GET', '/customers?limit=500&offset=5');
    expect(capped.body).toEqual({ data: [], total: 3 });
  });

  it.each(['limit=0', 'limit=abc', 'offset=-1', 'limit=2.5'])(
    'answers 400 invalid_pagination for %s',
    async (query) => {
      await start();
      const response = await call('GET', `/customers?${query}`);
      expect(response.status).toBe(400);
      expect(response.body).toEqual(
        helpCrunchError('limit', 'limit should be a positive integer and offset a non-negative integer.'),
      );
    },
  );
});

describe('POST /v1/customers/search', () => {
  const filter = (field: string, operator: string, value: unknown) => ({ field, operator, value });

  it('finds a customer by exact email, userId and name', async () => {
    await start();
    for (const [field, value] of [
      ['customers.email', 'ada@example.com'],
      ['customers.userId', 'u-ada'],
      ['customers.name', 'Ada Lovelace'],
    ]) {
      const response = await search({ filter: [filter(field!, '=', value)] });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ data: [answered(ADA)], total: 1 });
    }
  });

  it("'=' is exact: another case finds nobody", async () => {
    await start();
    const response = await search({ filter: [filter('customers.email', '=', 'ADA@example.com')] });
    expect(response.body).toEqual({ data: [], total: 0 });
  });

  it("'~' is a case-insensitive contains", async () => {
    await start();
    const response = await search({ filter: [filter('customers.email', '~', 'GRACE@')] });
    expect((response.body as { data: SandboxCustomer[] }).data).toEqual([answered(GRACE)]);
  });

  it("'!=' matches customers whose field differs, null included", async () => {
    await start();
    const response = await search({ filter: [filter('customers.userId', '!=', 'u-ada')] });
    expect((response.body as { data: SandboxCustomer[] }).data.map((c) => c.id)).toEqual([1002, 1003]);
  });

  it("filters on tags as documented: customers.tagsData '=' [{name}, …], every name required, exact case", async () => {
    await start();
    const ids = async (...names: string[]) => {
      const response = await search({
        filter: [
          filter(
            'customers.tagsData',
            '=',
            names.map((name) => ({ name })),
          ),
        ],
      });
      return (response.body as { data: SandboxCustomer[] }).data.map((c) => c.id);
    };
    expect(await ids('VIP')).toEqual([1002]);
    expect(await ids('vip')).toEqual([]);
    expect(await ids('Lead', 'Trial user')).toEqual([1001]);
    expect(await ids('Lead', 'VIP')).toEqual([]);
  });

  it('ANDs multiple filters by default, ORs them with comparison OR', async () => {
    await start();
    const filters = [filter('customers.tagsData', '=', [{ name: 'VIP' }]), filter('customers.name', '~', 'lovelace')];
    const ids = (body: { data: SandboxCustomer[] }) => body.data.map((c) => c.id);
    expect(ids((await search({ filter: filters })).body as { data: SandboxCustomer[] })).toEqual([]);
    expect(ids((await search({ filter: filters, comparison: 'AND' })).body as { data: SandboxCustomer[] })).toEqual([]);
    expect(ids((await search({ filter: filters, comparison: 'OR' })).body as { data: SandboxCustomer[] })).toEqual([
      1001, 1002,
    ]);
  });

  it('pages results and reports the total', async () => {
    await start();
    const response = await search({ filter: [], limit: 1, offset: 1 });
    expect(response.body).toEqual({ data: [answered(GRACE)], total: 3 });
  });

  it.each([
    ['no filter', {}],
    ['a filter object', { filter: filter('customers.email', '=', 'x') }],
    ['an unknown field', { filter: [filter('customers.phone', '=', 'x')] }],
    ['an unknown operator', { filter: [filter('customers.email', 'LIKE', 'x')] }],
    ['a non-string value', { filter: [filter('customers.email', '=', 5)] }],
    ['a tag filter with a string value', { filter: [filter('customers.tagsData', '=', 'VIP')] }],
    ['a tag filter with another operator', { filter: [filter('customers.tagsData', '!=', [{ name: 'VIP' }])] }],
    ['an unknown comparison', { filter: [], comparison: 'XOR' }],
    ['a null body', null],
  ])('answers 400 for a filter with %s', async (_case, body) => {
    await start();
    const response = await search(body === null ? 'null' : body);
    expect(response.status).toBe(400);
    expect(response.body).toEqual(
      helpCrunchError('filter', 'This value should be a list of {field, operator, value}.'),
    );
  });

  it('answers 400 invalid_json and invalid_pagination', async () => {
    await start();
    expect((await search('not json')).body).toEqual(SANDBOX_ERRORS.invalidJson.body);
    expect((await search({ filter: [], limit: -1 })).body).toEqual(SANDBOX_ERRORS.invalidPagination.body);
  });
});

describe('authentication and routing', () => {
  it.each([
    ['no Authorization header', null],
    ['a wrong key', 'Bearer wrong'],
    ['the right key without Bearer', API_KEY],
    ['another scheme', `Basic ${API_KEY}`],
  ])('answers 401 unauthorized for %s, without echoing the key', async (_case, authorization) => {
    await start();
    const response = await call('DELETE', '/customers/1001/tags', {
      authorization,
      body: { tags: [{ name: 'Lead' }] },
    });
    expect(response.status).toBe(401);
    expect(response.body).toEqual(helpCrunchError('unauthorized', 'Unauthorized'));
    expect(response.text).not.toContain(API_KEY);
    expect(sandbox!.customer(1001)).toEqual(ADA);
  });

  it('checks the key before routing', async () => {
    await start();
    expect((await call('GET', '/tickets', { authorization: null })).status).toBe(401);
  });

  it.each([
    ['GET', '/tickets'],
    ['POST', '/customers/1001'],
    ['GET', '/customers/1001/tags'],
    ['DELETE', '/customers/1001/tags/extra'],
    ['GET', '/customers/1001/notes'],
  ])('answers 404 without a not_found entry (not a missing customer) for %s %s', async (method, path) => {
    await start();
    const response = await call(method, path);
    expect(response.status).toBe(404);
    expect(response.body).toEqual(helpCrunchError('route', 'No route found.'));
  });

  it('answers 404 outside /v1', async () => {
    await start();
    const response = await fetch(sandbox!.url.replace('/v1', '/v2/customers'), {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual(SANDBOX_ERRORS.routeNotFound.body);
  });
});

describe('rate limit', () => {
  it('admits `requests` per sliding window, then 429 too_many_requests with Retry-After', async () => {
    let clock = 1_000_000;
    await start({ rateLimit: { requests: 3, windowMs: 10_000 }, now: () => clock });
    for (const offset of [0, 1_000, 2_000]) {
      clock = 1_000_000 + offset;
      expect((await call('GET', '/customers/1001')).status).toBe(200);
    }
    clock = 1_002_500;
    const limited = await call('GET', '/customers/1001');
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual(helpCrunchError('too_many_requests', 'Too many requests'));
    // The first admitted request leaves the window at 1_010_000: 7.5 s away, rounded up.
    expect(limited.headers.get('retry-after')).toBe('8');

    clock = 1_009_999;
    expect((await call('GET', '/customers/1001')).headers.get('retry-after')).toBe('1');
    clock = 1_010_000;
    expect((await call('GET', '/customers/1001')).status).toBe(200);
    // That used the freed slot; the next frees when the 1_001_000 request leaves the window.
    const next = await call('GET', '/customers/1001');
    expect(next.status).toBe(429);
    expect(next.headers.get('retry-after')).toBe('1');
  });

  it('does not count rejected or unauthenticated requests against the account', async () => {
    let clock = 0;
    await start({ rateLimit: { requests: 2, windowMs: 1_000 }, now: () => clock });
    expect((await call('GET', '/customers/1001', { authorization: null })).status).toBe(401);
    expect((await call('GET', '/customers/1001')).status).toBe(200);
    expect((await call('GET', '/customers/1001')).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await call('GET', '/customers/1001')).status).toBe(429);
    clock = 1_000;
    expect((await call('GET', '/customers/1001')).status).toBe(200);
    expect((await call('GET', '/customers/1001')).status).toBe(200);
  });

  it('defaults to 120 requests per minute', async () => {
    const clock = 0;
    await start({ now: () => clock });
    const statuses = await Promise.all(Array.from({ length: 121 }, () => call('GET', '/customers/1001')));
    expect(statuses.filter((r) => r.status === 200)).toHaveLength(120);
    const limited = statuses.filter((r) => r.status === 429);
    expect(limited).toHaveLength(1);
    expect(limited[0]!.headers.get('retry-after')).toBe('60');
  });

  it('reports the peak requests seen within one window', async () => {
    let clock = 0;
    await start({ rateLimit: { requests: 100, windowMs: 1_000 }, now: () => clock });
    for (const at of [0, 100, 200, 1_150, 1_300]) {
      clock = at;
      await call('GET', '/customers/1001');
    }
    // 0/100/200 share a window; by 1_300 only 1_150 and 1_300 are still inside it.
    expect(sandbox!.stats().maxPerWindow).toBe(3);
    clock = 1_310;
    await call('GET', '/customers/1001');
    expect(sandbox!.stats().maxPerWindow).toBe(3);
    clock = 1_320;
    await call('GET', '/customers/1001');
    expect(sandbox!.stats().maxPerWindow).toBe(4);
  });
});

describe('fault injection', () => {
  /** A `random` that returns the queued values in turn, then 0.99. */
  function scriptedRandom(values: number[]) {
    return () => values.shift() ?? 0.99;
  }

  it('injects 429s with the configured Retry-After, before auth and rate limit', async () => {
    await start({ faults: { rate429: 0.5, retryAfter: 7 }, random: scriptedRandom([0.4, 0.6]) });
    const faulted = await call('GET', '/customers/1001', { authorization: null });
    expect(faulted.status).toBe(429);
    expect(faulted.body).toEqual(SANDBOX_ERRORS.tooManyRequests.body);
    expect(faulted.headers.get('retry-after')).toBe('7');
    expect((await call('GET', '/customers/1001')).status).toBe(200);
  });

  it("sends no Retry-After on injected 429s when retryAfter is 'none'", async () => {
    await start({ faults: { rate429: 1 } });
    const faulted = await call('GET', '/customers/1001');
    expect(faulted.status).toBe(429);
    expect(faulted.headers.get('retry-after')).toBeNull();
  });

  it('injects 500 internal_error without touching customers', async () => {
    await start({ random: scriptedRandom([0.1]) });
    sandbox!.setFaults({ rate5xx: 0.2 });
    const faulted = await call('DELETE', '/customers/1001/tags', { body: { tags: [{ name: 'Lead' }] } });
    expect(faulted.status).toBe(500);
    expect(faulted.body).toEqual({ errors: [{ code: 'internal_error', message: 'Internal server error' }] });
    expect(sandbox!.customer(1001)).toEqual(ADA);
    expect((await call('DELETE', '/customers/1001/tags', { body: { tags: [{ name: 'Lead' }] } })).status).toBe(200);
  });

  it('drops the connection without a reply and records status 0', async () => {
    await start({ faults: { dropRate: 1 } });
    await expect(call('GET', '/customers/1001')).rejects.toThrow();
    await expect.poll(() => sandbox!.requests.length).toBe(1);
    expect(sandbox!.requests[0]).toMatchObject({ method: 'GET', path: '/v1/customers/1001', status: 0 });
    expect(sandbox!.stats().byStatus).toEqual({ 0: 1 });
    sandbox!.setFaults({ dropRate: 0 });
    expect((await call('GET', '/customers/1001')).status).toBe(200);
  });

  it('delays every request by latencyMs', async () => {
    await start({ faults: { latencyMs: 120 } });
    const started = performance.now();
    expect((await call('GET', '/customers/1001')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(115);
    expect(sandbox!.requests[0]!.ms).toBeGreaterThanOrEqual(115);
  });

  it('close() does not wait for injected latency', async () => {
    await start({ faults: { latencyMs: 60_000 } });
    const pending = call('GET', '/customers/1001');
    await expect.poll(() => sandbox!.stats().maxPerWindow).toBe(1);
    const started = performance.now();
    await sandbox!.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    await expect(pending).rejects.toThrow();
  });

  it('draws random numbers only for enabled faults', async () => {
    let draws = 0;
    await start({ random: () => (draws++, 0.99) });
    await call('GET', '/customers/1001');
    expect(draws).toBe(0);
    sandbox!.setFaults({ rate5xx: 0.5, dropRate: 0.5 });
    await call('GET', '/customers/1001');
    expect(draws).toBe(2);
  });

  it.each([{ rate429: 1.5 }, { rate5xx: -0.1 }, { dropRate: Number.NaN }, { latencyMs: -1 }, { retryAfter: -2 }])(
    'rejects out-of-range faults %o',
    async (faults) => {
      await start();
      expect(() => sandbox!.setFaults(faults)).toThrow(RangeError);
    },
  );
});

describe('scripted answers', () => {
  /** A raw request: the scripted answers below are not always JSON. */
  const send = (method: string, path: string, body?: unknown, init: RequestInit = {}) =>
    fetch(`${sandbox!.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      ...init,
    });
  const untag = (init?: RequestInit) => send('DELETE', '/customers/1001/tags', { tags: [{ name: 'Lead' }] }, init);

  it("answers a route's sequence in order, documented errors included, then answers on its own; other routes are untouched", async () => {
    await start();
    sandbox!.script('DELETE /v1/customers/:id/tags', { error: 'tooManyRequests', retryAfter: 3 }, { status: 503 });

    const limited = await untag();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(await limited.json()).toEqual(SANDBOX_ERRORS.tooManyRequests.body);
    expect((await call('GET', '/customers/1001')).status).toBe(200);
    const gateway = await untag();
    expect(gateway.status).toBe(503);
    expect(await gateway.text()).toBe('');
    expect(tagNames(sandbox!.customer(1001))).toEqual(['Lead', 'Trial user']);

    expect((await untag()).status).toBe(200);
    expect(tagNames(sandbox!.customer(1001))).toEqual(['Trial user']);
    expect(sandbox!.requests.map((r) => r.status)).toEqual([429, 200, 503, 200]);
  });

  it("serves a route's own queue before the '*' queue, and '*' answers any request, unknown routes too", async () => {
    await start();
    sandbox!.script('*', { error: 'internalError' }, { status: 404, body: '<html>Not Found</html>' });
    sandbox!.script('GET /v1/customers/:id', { error: 'customerNotFound' });

    expect((await call('GET', '/customers/1001')).body).toEqual(SANDBOX_ERRORS.customerNotFound.body);
    expect((await call('GET', '/customers')).body).toEqual(SANDBOX_ERRORS.internalError.body);
    const proxy = await send('GET', '/elsewhere');
    expect(proxy.status).toBe(404);
    expect(proxy.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await proxy.text()).toBe('<html>Not Found</html>');
    expect((await call('GET', '/customers/1001')).status).toBe(200);
  });

  it('sends an error without Retry-After unless asked, a status answer’s body and headers as given', async () => {
    await start();
    sandbox!.script(
      '*',
      { error: 'tooManyRequests' },
      { status: 201, body: { id: 2 ** 53 + 2 }, headers: { 'content-type': 'application/json', 'x-extra': '1' } },
    );
    const limited = await untag();
    expect(limited.headers.get('retry-after')).toBeNull();
    const odd = await untag();
    expect(odd.status).toBe(201);
    expect(odd.headers.get('content-type')).toBe('application/json');
    expect(odd.headers.get('x-extra')).toBe('1');
    expect(await odd.text()).toBe('{"id":9007199254740994}');
  });

  it("repeats an answer `times` times, or until reset() with 'always'", async () => {
    await start();
    sandbox!.script('*', { status: 502, times: 2 }, { error: 'unauthorized', times: 'always' });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await untag()).status);
    expect(statuses).toEqual([502, 502, 401, 401, 401]);
    sandbox!.reset();
    expect((await untag()).status).toBe(200);
  });

  it('answers on its own, late, for a `pass` with delayMs; scripted answers skip the key and the rate limit', async () => {
    await start({ rateLimit: { requests: 1, windowMs: 60_000 } });
    sandbox!.script('*', { pass: true, delayMs: 120 }, { status: 204 });
    const started = performance.now();
    expect((await untag()).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(115);
    // Over the rate limit and without the key, yet answered as scripted.
    expect((await untag({ headers: {} })).status).toBe(204);
    expect((await untag()).status).toBe(429);
  });

  it('holds a stalled request unanswered until release(), then answers on its own', async () => {
    await start();
    sandbox!.script('*', { stall: true });
    let answered = false;
    const pending = untag().then((response) => ((answered = true), response));
    await expect.poll(() => sandbox!.stalled()).toBe(1);
    // Recorded on arrival, still unanswered.
    expect(sandbox!.requests).toEqual([
      expect.objectContaining({ status: 0, pending: true, body: { tags: [{ name: 'Lead' }] } }),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answered).toBe(false);

    sandbox!.release();
    expect((await pending).status).toBe(200);
    expect(sandbox!.stalled()).toBe(0);
    await expect.poll(() => sandbox!.requests[0]).toMatchObject({ status: 200 });
    expect(sandbox!.requests[0]).not.toHaveProperty('pending');
  });

  it('holds nothing for a client that gave up during the delay before a stall', async () => {
    await start();
    sandbox!.script('*', { stall: true, delayMs: 200 });
    await expect(untag({ signal: AbortSignal.timeout(50) })).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(sandbox!.stalled()).toBe(0);
  });

  it('forgets a stalled request whose client gives up, and records it with status 0', async () => {
    await start();
    sandbox!.script('*', { stall: true });
    await expect(untag({ signal: AbortSignal.timeout(100) })).rejects.toThrow();
    await expect.poll(() => sandbox!.stalled()).toBe(0);
    await expect.poll(() => sandbox!.requests[0]?.status).toBe(0);
    expect(sandbox!.requests[0]).not.toHaveProperty('pending');
  });

  it('close() ends stalled requests and delays at once', async () => {
    await start();
    sandbox!.script('*', { stall: true }, { status: 200, delayMs: 60_000 });
    const answers = Promise.allSettled([untag(), untag()]);
    await expect.poll(() => sandbox!.stats().maxPerWindow).toBe(2);
    const started = performance.now();
    await sandbox!.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect((await answers).map((answer) => answer.status)).toEqual(['rejected', 'rejected']);
  });

  it('drops the connection without an answer', async () => {
    await start();
    sandbox!.script('*', { drop: true });
    await expect(untag()).rejects.toThrow();
    await expect.poll(() => sandbox!.requests[0]?.status).toBe(0);
    expect(tagNames(sandbox!.customer(1001))).toEqual(['Lead', 'Trial user']);
  });

  it('cuts its own answer short: the head announces the whole body, half arrives, then the connection closes', async () => {
    await start();
    sandbox!.script('*', { cutShort: 'close' });
    const response = await call('GET', '/customers/1001').catch((error: unknown) => error);
    expect(response).toBeInstanceOf(Error);
    await expect.poll(() => sandbox!.requests[0]?.status).toBe(0);
  });

  it("or leaves it hanging after half the body ('stall')", async () => {
    await start();
    sandbox!.script('*', { cutShort: 'stall' });
    const response = await send('GET', '/customers/1001');
    const whole = JSON.stringify(answered(ADA));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(whole)));
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    expect(Buffer.from(value!).toString()).toBe(whole.slice(0, Math.floor(whole.length / 2)));
    const next = await Promise.race([
      reader.read(),
      new Promise((resolve) => setTimeout(() => resolve('waiting'), 100)),
    ]);
    expect(next).toBe('waiting');
    expect(sandbox!.requests[0]).toMatchObject({ status: 0, pending: true });
  });

  it.each([
    [{}, /exactly one of/],
    [{ status: 500, drop: true }, /exactly one of/],
    [{ status: 99 }, /status must be an integer 200-599/],
    [{ error: 'teapot' }, /error must be one of .*tooManyRequests/],
    [{ error: 'tooManyRequests', retry_after: 5 }, /'retry_after' does not belong/],
    [{ stall: 'yes' }, /stall must be true/],
    [{ cutShort: true }, /cutShort must be 'close' or 'stall'/],
    [{ pass: true, times: 0 }, /times must be a positive integer/],
    [{ pass: true, delayMs: -1 }, /delayMs must be an integer/],
    [{ status: 204, body: 'x' }, /a 204 answer has no body/],
    [{ status: 200, headers: { 'bad header': 'x' } }, /header 'bad header'/],
    [{ status: 200, headers: { 'x-a': 'one\r\ntwo' } }, /header 'x-a'/],
  ])('refuses the malformed answer %o', async (answer, message) => {
    await start();
    expect(() => sandbox!.script('*', answer as never)).toThrow(message);
    expect(() => sandbox!.script('GET /v1/nothing' as never, { pass: true })).toThrow(RangeError);
  });

  it('keeps its own copy of an answer', async () => {
    await start();
    const answer = { status: 500, body: { errors: [] as unknown[] } };
    sandbox!.script('*', answer);
    answer.body.errors.push('changed');
    expect((await call('GET', '/customers/1001')).body).toEqual({ errors: [] });
  });
});

describe('request log, stats and lifecycle', () => {
  it('records method, path without query, status, arrival time, duration, headers, body and client port', async () => {
    await start({ now: () => 12_345 });
    await call('GET', '/customers?limit=1');
    await call('GET', '/customers/1', { authorization: null });
    await call('DELETE', '/customers/1001/tags', { body: { tags: [{ name: 'Lead' }] } });
    await call('PUT', '/customers/1001/tags', { body: '{"tags": [' });
    const seen = (authorization?: string) => ({
      headers: expect.objectContaining({ 'content-type': 'application/json', ...(authorization && { authorization }) }),
      remotePort: expect.any(Number),
    });
    expect(sandbox!.requests).toEqual([
      {
        method: 'GET',
        path: '/v1/customers',
        status: 200,
        at: 12_345,
        ms: expect.any(Number),
        body: '',
        ...seen(`Bearer ${API_KEY}`),
      },
      { method: 'GET', path: '/v1/customers/1', status: 401, at: 12_345, ms: expect.any(Number), body: '', ...seen() },
      {
        method: 'DELETE',
        path: '/v1/customers/1001/tags',
        status: 200,
        at: 12_345,
        ms: expect.any(Number),
        tags: ['Lead'],
        body: { tags: [{ name: 'Lead' }] },
        ...seen(`Bearer ${API_KEY}`),
      },
      // Not JSON: kept as text.
      {
        method: 'PUT',
        path: '/v1/customers/1001/tags',
        status: 400,
        at: 12_345,
        ms: expect.any(Number),
        body: '{"tags": [',
        ...seen(`Bearer ${API_KEY}`),
      },
    ]);
    expect(sandbox!.requests[1]!.headers).not.toHaveProperty('authorization');
    expect(sandbox!.stats()).toEqual({ total: 4, byStatus: { 200: 2, 400: 1, 401: 1 }, maxPerWindow: 4 });
  });

  it('keeps no body over RECORDED_BODY_BYTES in the log, and still handles it', async () => {
    await start();
    const name = 'x'.repeat(RECORDED_BODY_BYTES);
    const response = await call('PUT', '/customers/1003/tags', { body: { tags: [{ name }] } });
    expect(response.status).toBe(200);
    expect(sandbox!.requests[0]!.body).toBeUndefined();
    expect(sandbox!.requests[0]!.tags).toEqual([name]);
  });

  it('keeps only the newest requestLogSize records while stats count everything', async () => {
    await start({ requestLogSize: 3 });
    for (let id = 1; id <= 7; id++) await call('GET', `/customers/${id}`);
    expect(sandbox!.requests.map((r) => r.path)).toEqual(['/v1/customers/5', '/v1/customers/6', '/v1/customers/7']);
    expect(sandbox!.stats().total).toBe(7);
    expect(sandbox!.stats().byStatus).toEqual({ 404: 7 });
  });

  it('notifies onRequest listeners until they unsubscribe', async () => {
    await start();
    const seen: RequestRecord[] = [];
    const unsubscribe = sandbox!.onRequest((record) => seen.push(record));
    await call('GET', '/customers/1001');
    await expect.poll(() => seen.length).toBe(1);
    expect(seen[0]).toMatchObject({ path: '/v1/customers/1001', status: 200 });
    unsubscribe();
    await call('GET', '/customers/1001');
    await expect.poll(() => sandbox!.stats().total).toBe(2);
    expect(seen).toHaveLength(1);
  });

  it('hands out snapshots that callers cannot use to change the sandbox', async () => {
    await start();
    sandbox!.customers()[0]!.tags.length = 0;
    sandbox!.customer(1001)!.tags.push({ name: 'Hacked', color: '#000' });
    sandbox!.requests.length = 0;
    expect(sandbox!.customer(1001)).toEqual(ADA);
    await call('GET', '/customers/1001');
    expect((await call('GET', '/customers/1001')).body).toEqual(answered(ADA));
  });

  it('reset() restores customers and faults and clears log, stats and rate limit', async () => {
    const clock = 0;
    await start({ rateLimit: { requests: 1, windowMs: 60_000 }, now: () => clock });
    await call('DELETE', '/customers/1001/tags', { body: { tags: [{ name: 'Lead' }] } });
    sandbox!.setFaults({ rate5xx: 1 });
    sandbox!.reset();
    expect(sandbox!.customer(1001)).toEqual(ADA);
    expect(sandbox!.requests).toEqual([]);
    expect(sandbox!.stats()).toEqual({ total: 0, byStatus: {}, maxPerWindow: 0 });
    expect((await call('GET', '/customers/1001')).status).toBe(200);

    sandbox!.reset([NOBODY]);
    expect(sandbox!.customers()).toEqual([NOBODY]);
    expect((await call('GET', '/customers/1001')).status).toBe(404);
  });

  it('close() frees the port and can be called twice', async () => {
    const { port, url } = await start();
    await call('GET', '/customers/1001'); // leaves a keep-alive connection open
    await sandbox!.close();
    await sandbox!.close();
    await expect(fetch(`${url}/customers/1001`)).rejects.toThrow();
    const probe = createServer();
    await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    sandbox = undefined;
  });

  it('stays correct under a few thousand concurrent requests with bounded memory', async () => {
    await start({ rateLimit: { requests: 1_000_000, windowMs: 60_000 } });
    const total = 3_000;
    for (let sent = 0; sent < total; sent += 200) {
      const batch = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          i % 2 === 0
            ? search({ filter: [{ field: 'customers.email', operator: '=', value: 'ada@example.com' }] })
            : call('DELETE', '/customers/1002/tags', { body: { tags: [{ name: 'VIP' }] } }),
        ),
      );
      expect(batch.every((r) => r.status === 200)).toBe(true);
    }
    await expect.poll(() => sandbox!.stats().total).toBe(total);
    expect(sandbox!.requests).toHaveLength(1000);
    expect(sandbox!.stats().byStatus).toEqual({ 200: total });
    expect(tagNames(sandbox!.customer(1002))).toEqual(['Subscriber']);
  }, 30_000);
});
