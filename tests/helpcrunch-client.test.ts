import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BadEventError, ConfigError, RetryableError } from '../lib/errors';
import { defaultApiUrl, parseApiUrl } from '../lib/helpcrunch/api-url';
import { createHelpCrunchClient, type ApiKeySource, type HelpCrunchCustomer } from '../lib/helpcrunch/client';
import { RetryBudget, type RetryPolicy } from '../lib/http/retry';
import { documented } from './support/helpcrunch-fixtures';
import { startHelpCrunchStub, type HelpCrunchStub } from './support/helpcrunch-stub';

const apiKey = 'hc_live_s3cr3t_key';
const rotatedKey = 'hc_live_rotated_key';
// Tiny waits keep the suite fast; the backoff maths itself is covered in retry.test.ts.
const fastPolicy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 5 };

/** An ApiKeySource that records how it was asked and serves `keys` in turn (the last one repeats). */
function keySource(...keys: string[]) {
  const calls: Parameters<ApiKeySource['get']>[0][] = [];
  const source: ApiKeySource = {
    async get(options) {
      calls.push(options);
      return keys[Math.min(calls.length - 1, keys.length - 1)]!;
    },
  };
  return { source, calls };
}

const budget = (ms = 10_000) => ({ budget: RetryBudget.until(Date.now() + ms) });

const customer = (id: number): HelpCrunchCustomer => ({
  id,
  email: 'ann@example.com',
  userId: `u-${id}`,
  name: 'Ann',
  tags: [{ name: 'trial', color: '#fff' }],
});

async function failure(promise: Promise<unknown>): Promise<Error & { requests?: number; code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

function expectNoKey(error: Error) {
  for (const text of [error.message, error.stack ?? '', JSON.stringify(error)]) {
    expect(text).not.toContain(apiKey);
    expect(text).not.toContain('Bearer');
  }
}

describe('HelpCrunch client', () => {
  let stub: HelpCrunchStub;
  let keys: ReturnType<typeof keySource>;
  const client = (options: { timeoutMs?: number; retryPolicy?: RetryPolicy } = {}) =>
    createHelpCrunchClient({ baseUrl: stub.url, apiKey: keys.source, retryPolicy: fastPolicy, ...options });

  beforeEach(async () => {
    stub = await startHelpCrunchStub();
    keys = keySource(apiKey, rotatedKey);
  });
  afterEach(async () => {
    await stub.close();
  });

  describe('untagCustomer', () => {
    it('sends DELETE /customers/<id>/tags with the tags as JSON and the bearer key', async () => {
      stub.enqueue({ status: 200, body: { data: customer(42) } });
      const result = await client().untagCustomer(42, ['trial', 'vip'], budget());

      expect(result).toEqual({ found: true, requests: 1 });
      expect(stub.requests).toHaveLength(1);
      const [request] = stub.requests;
      expect(request).toMatchObject({
        method: 'DELETE',
        path: '/v1/customers/42/tags',
        body: { tags: [{ name: 'trial' }, { name: 'vip' }] },
      });
      expect(request!.headers).toMatchObject({
        authorization: `Bearer ${apiKey}`,
        'user-agent': 'helpcrunch-untag',
        'content-type': expect.stringContaining('application/json'),
      });
    });

    it('reports found:false on HelpCrunch’s 404 not_found, without retrying', async () => {
      stub.enqueue({ status: 404, body: documented('error-404.json') });
      expect(await client().untagCustomer(7, ['trial'], budget())).toEqual({ found: false, requests: 1 });
      expect(stub.requests).toHaveLength(1);
    });

    it.each([
      ['no body', undefined],
      ['an HTML page', '<html><body>404 Not Found</body></html>'],
      ['another JSON error', { message: 'Not Found' }],
      [
        'HelpCrunch’s error shape without not_found',
        { errors: [{ code: 'invalid_request', message: 'Invalid request' }] },
      ],
    ])('treats a 404 with %s as a configuration error, never as customer not found', async (_, body) => {
      stub.enqueue({ status: 404, body });
      const error = await failure(client().untagCustomer(7, ['trial'], budget()));

      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'helpcrunch_route_not_found', requests: 1 });
      expect(error.message).toContain('HELPCRUNCH_API_URL');
      expect(stub.requests).toHaveLength(1);
    });

    it('turns 400 into BadEventError, HelpCrunch’s reasons kept for the logs only, without retrying', async () => {
      stub.enqueue({ status: 400, body: documented('error-400.json') });
      const error = await failure(client().untagCustomer(7, [''], budget()));

      expect(error).toBeInstanceOf(BadEventError);
      expect(error).toMatchObject({ code: 'helpcrunch_bad_request', requests: 1 });
      expect(error.message).toBe('HelpCrunch rejected the request (400)');
      expect((error as BadEventError).detail).toBe(
        'customer: This value should be of type numeric.; filter[0].field: This value should not be blank.',
      );
      expect(stub.requests).toHaveLength(1);
    });

    it('names other 4xx by status and caps a long reason', async () => {
      stub.enqueue({ status: 422, body: { errors: [{ message: 'x'.repeat(5_000) }] } });
      const error = await failure(client().untagCustomer(7, ['trial'], budget()));

      expect(error).toBeInstanceOf(BadEventError);
      expect(error.code).toBe('helpcrunch_422');
      expect(error.message).toBe('HelpCrunch rejected the request (422)');
      expect((error as BadEventError).detail!.length).toBeLessThan(300);
    });

    it('retries 429 after Retry-After and counts every request', async () => {
      stub.enqueue(
        { status: 429, headers: { 'retry-after': '0' }, body: { errors: [{ message: 'Too many' }] } },
        { status: 200 },
      );
      expect(await client().untagCustomer(7, ['trial'], budget())).toEqual({ found: true, requests: 2 });
      expect(stub.requests).toHaveLength(2);
    });

    it('gives up at once when Retry-After exceeds the budget, passing the wait on', async () => {
      stub.enqueue({ status: 429, headers: { 'retry-after': '30' } });
      const error = await failure(client().untagCustomer(7, ['trial'], budget(10_000)));

      expect(error).toBeInstanceOf(RetryableError);
      expect((error as RetryableError).retryAfterMs).toBeGreaterThanOrEqual(30_000);
      expect(error.message).toBe('HelpCrunch answered 429 on 1 attempt; time budget exhausted');
      expect(error.requests).toBe(1);
      expect(stub.requests).toHaveLength(1);
    });

    it('retries 5xx until HelpCrunch recovers', async () => {
      stub.enqueue({ status: 502 }, { status: 500, body: 'oops' }, { status: 204 });
      expect(await client().untagCustomer(7, ['trial'], budget())).toEqual({ found: true, requests: 3 });
    });

    it('retries a request that times out', async () => {
      stub.enqueue({ status: 200, delayMs: 500 }, { status: 200 });
      const result = await client({ timeoutMs: 100 }).untagCustomer(7, ['trial'], budget());
      expect(result).toEqual({ found: true, requests: 2 });
      expect(stub.requests).toHaveLength(2);
    });

    /** A server that accepts connections and then does `onConnection` with each socket; it never closes them itself. */
    async function rawServer(onConnection: (socket: Socket) => void) {
      const sockets = new Set<Socket>();
      const server = createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => undefined);
        onConnection(socket);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const close = () => {
        for (const socket of sockets) socket.destroy();
        return new Promise((resolve) => server.close(resolve));
      };
      return { url: `http://127.0.0.1:${port}/v1`, connections: () => sockets.size, close };
    }

    it.each([
      ['accepts the connection and never answers', () => undefined],
      [
        'sends its headers, then never ends the body',
        (socket: Socket) =>
          socket.once('data', () =>
            socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"id":'),
          ),
      ],
    ])('gives up on a HelpCrunch that %s, within the budget', async (_, behave) => {
      const stalled = await rawServer(behave);
      try {
        const helpcrunch = createHelpCrunchClient({
          baseUrl: stalled.url,
          apiKey: keys.source,
          timeoutMs: 200,
          retryPolicy: { ...fastPolicy, maxAttempts: 2 },
        });
        const error = await failure(helpcrunch.untagCustomer(7, ['trial'], budget()));

        expect(error).toBeInstanceOf(RetryableError);
        expect(error.message).toBe('HelpCrunch did not answer within 200 ms on 2 attempts; attempt limit reached');
        expect(error.requests).toBe(2);
        expect(stalled.connections()).toBe(2);
      } finally {
        await stalled.close();
      }
    });

    it('refuses an answer over 4 MiB at once, as a configuration error it does not retry', async () => {
      const huge = await rawServer((socket) =>
        socket.once('data', () => {
          socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n');
          const chunk = Buffer.alloc(64 * 1024, 0x20);
          // Keeps sending until the client hangs up.
          const pump = () => {
            while (!socket.destroyed && socket.write(chunk));
            if (!socket.destroyed) socket.once('drain', pump);
          };
          pump();
        }),
      );
      try {
        const helpcrunch = createHelpCrunchClient({ baseUrl: huge.url, apiKey: keys.source, retryPolicy: fastPolicy });
        const error = await failure(helpcrunch.searchCustomers('email', 'ann@example.com', budget()));

        expect(error).toBeInstanceOf(ConfigError);
        expect(error).toMatchObject({ code: 'helpcrunch_unexpected_response', requests: 1 });
        expect(huge.connections()).toBe(1);
      } finally {
        await huge.close();
      }
    });

    it('retries a reset connection', async () => {
      stub.enqueue({ reset: true }, { status: 200 });
      expect(await client().untagCustomer(7, ['trial'], budget())).toEqual({ found: true, requests: 2 });
    });

    it('reuses one keep-alive connection across calls', async () => {
      const helpcrunch = client();
      await helpcrunch.untagCustomer(1, ['trial'], budget());
      await helpcrunch.untagCustomer(2, ['trial'], budget());
      expect(stub.requests[0]!.remotePort).toBe(stub.requests[1]!.remotePort);
    });

    it('on 401 re-reads the key with forceRefresh and retries once', async () => {
      stub.enqueue({ status: 401, body: { errors: [{ code: 'unauthorized' }] } }, { status: 200 });
      const result = await client().untagCustomer(7, ['trial'], budget());

      expect(result).toEqual({ found: true, requests: 2 });
      expect(keys.calls).toEqual([
        { budget: expect.any(RetryBudget) },
        { forceRefresh: true, budget: expect.any(RetryBudget) },
      ]);
      expect(stub.requests.map((request) => request.headers.authorization)).toEqual([
        `Bearer ${apiKey}`,
        `Bearer ${rotatedKey}`,
      ]);
    });

    it('re-sends with the refreshed key within the same attempt, so a single-attempt policy picks up a rotation', async () => {
      stub.enqueue({ status: 401, body: { errors: [{ code: 'unauthorized' }] } }, { status: 200 });
      const singleAttempt = client({ retryPolicy: { maxAttempts: 1, baseDelayMs: 250, maxDelayMs: 10_000 } });

      await expect(singleAttempt.untagCustomer(7, ['trial'], budget())).resolves.toEqual({ found: true, requests: 2 });
      expect(keys.calls.map((options) => options.forceRefresh)).toEqual([undefined, true]);
    });

    it('reports a key rejected again after the refresh as ConfigError, never showing the key', async () => {
      keys = keySource(apiKey);
      stub.fallback = () => ({ status: 403, body: { errors: [{ code: 'forbidden', message: 'bad key' }] } });
      const error = await failure(client().untagCustomer(7, ['trial'], budget()));

      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'api_key_rejected', requests: 2 });
      expect(stub.requests).toHaveLength(2);
      expectNoKey(error);
    });

    it('passes a key source failure through as the same error', async () => {
      const unreadable = new ConfigError("Secret 'hc' cannot be read (AccessDeniedException)", 'secret_unreadable');
      const helpcrunch = createHelpCrunchClient({
        baseUrl: stub.url,
        apiKey: { get: async () => Promise.reject(unreadable) },
      });
      expect(await failure(helpcrunch.untagCustomer(7, ['trial'], budget()))).toBe(unreadable);
      expect(stub.requests).toHaveLength(0);
    });

    it('stops retrying when the time budget runs out', async () => {
      stub.fallback = () => ({ status: 503 });
      const started = Date.now();
      const error = await failure(
        client({ timeoutMs: 100, retryPolicy: { maxAttempts: 100, baseDelayMs: 20, maxDelayMs: 20 } }).untagCustomer(
          7,
          ['trial'],
          budget(400),
        ),
      );

      // No attempt starts unless it can end (timeout included) inside the 400 ms budget; without
      // the budget, 100 attempts 20 ms apart would take over 2 s. The slack is for a busy CI machine.
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(error).toBeInstanceOf(RetryableError);
      expect(error.message).toMatch(/^HelpCrunch answered 503 on \d+ attempts; time budget exhausted$/);
      expect(error.requests).toBe(stub.requests.length);
      expect(error.requests).toBeGreaterThan(1);
    });

    it('wraps network failures without leaking the Authorization header', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as AddressInfo;
      await new Promise((resolve) => closed.close(resolve));

      const helpcrunch = createHelpCrunchClient({
        baseUrl: `http://127.0.0.1:${port}/v1`,
        apiKey: keys.source,
        retryPolicy: { ...fastPolicy, maxAttempts: 2 },
      });
      const error = await failure(helpcrunch.untagCustomer(7, ['trial'], budget()));

      expect(error).toBeInstanceOf(RetryableError);
      expect(error.message).toBe('HelpCrunch unreachable (ECONNREFUSED) on 2 attempts; attempt limit reached');
      expect(error.requests).toBe(2);
      expect(error).not.toHaveProperty('config');
      expect(error).not.toHaveProperty('cause');
      expectNoKey(error);
    });
  });

  describe('tagCustomer', () => {
    it('sends PUT /customers/<id>/tags with the tags as JSON and the bearer key', async () => {
      stub.enqueue({ status: 200, body: documented('customer.json') });
      const result = await client().tagCustomer(42, ['Churned', 'Black Friday'], budget());

      expect(result).toEqual({ found: true, requests: 1 });
      expect(stub.requests).toEqual([
        expect.objectContaining({
          method: 'PUT',
          path: '/v1/customers/42/tags',
          body: { tags: [{ name: 'Churned' }, { name: 'Black Friday' }] },
        }),
      ]);
      expect(stub.requests[0]!.headers).toMatchObject({
        authorization: `Bearer ${apiKey}`,
        'content-type': expect.stringContaining('application/json'),
      });
    });

    it('reports found:false only on HelpCrunch’s 404 not_found; any other 404 is a configuration error', async () => {
      stub.enqueue(
        { status: 404, body: documented('error-404.json') },
        { status: 404, body: { message: 'Not Found' } },
      );

      expect(await client().tagCustomer(7, ['Churned'], budget())).toEqual({ found: false, requests: 1 });
      const error = await failure(client().tagCustomer(7, ['Churned'], budget()));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'helpcrunch_route_not_found', requests: 1 });
    });

    it('retries 429 and 5xx like untagCustomer, and refuses a 400 without retrying', async () => {
      stub.enqueue(
        { status: 429, headers: { 'retry-after': '0' } },
        { status: 503 },
        { status: 200 },
        { status: 400, body: documented('error-400.json') },
      );

      expect(await client().tagCustomer(7, ['Churned'], budget())).toEqual({ found: true, requests: 3 });
      const error = await failure(client().tagCustomer(7, ['Churned'], budget()));
      expect(error).toBeInstanceOf(BadEventError);
      expect(error).toMatchObject({ code: 'helpcrunch_bad_request', requests: 1 });
    });

    it('re-reads a rejected key once and re-sends with it', async () => {
      stub.enqueue({ status: 401, body: documented('error-401.json') }, { status: 200 });

      expect(await client().tagCustomer(7, ['Churned'], budget())).toEqual({ found: true, requests: 2 });
      expect(stub.requests.map((request) => request.headers.authorization)).toEqual([
        `Bearer ${apiKey}`,
        `Bearer ${rotatedKey}`,
      ]);
    });
  });

  describe('searchCustomers', () => {
    it('POSTs the filter for the field and returns the customers', async () => {
      stub.enqueue({ status: 200, body: { data: [customer(1)], total: 1 } });
      const result = await client().searchCustomers('email', 'ann@example.com', budget());

      expect(result).toEqual({ customers: [customer(1)], requests: 1 });
      expect(stub.requests[0]).toMatchObject({
        method: 'POST',
        path: '/v1/customers/search',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': expect.stringContaining('application/json') },
        body: {
          filter: [{ field: 'customers.email', operator: '=', value: 'ann@example.com' }],
          limit: 100,
          offset: 0,
        },
      });
    });

    it('filters on customers.userId for userId', async () => {
      stub.enqueue({ status: 200, body: { data: [], total: 0 } });
      expect(await client().searchCustomers('userId', 'u-1', budget())).toEqual({ customers: [], requests: 1 });
      expect(stub.requests[0]!.body).toMatchObject({ filter: [{ field: 'customers.userId', value: 'u-1' }] });
    });

    it('pages with offset until total is reached, summing requests', async () => {
      const total = 230;
      stub.fallback = (request) => {
        const { offset, limit } = request.body as { offset: number; limit: number };
        const ids = Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, i) => offset + i + 1);
        return { status: 200, body: { data: ids.map(customer), total } };
      };
      stub.enqueue({ status: 503 });
      const result = await client().searchCustomers('email', 'ann@example.com', budget());

      expect(result.customers.map((c) => c.id)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(stub.requests.map((request) => (request.body as { offset: number }).offset)).toEqual([0, 0, 100, 200]);
      expect(result.requests).toBe(4);
    });

    /** Full pages of customers sharing one email; `total` as HelpCrunch reports it, or none. */
    const fullPages = (total?: number) => (request: { body: unknown }) => {
      const { offset } = request.body as { offset: number };
      const data = Array.from({ length: 100 }, (_, i) => customer(offset + i + 1));
      return { status: 200, body: total === undefined ? { data } : { data, total } };
    };

    it('takes up to 1,000 customers (10 pages of 100)', async () => {
      stub.fallback = fullPages(1_000);
      const result = await client().searchCustomers('email', 'ann@example.com', budget());
      expect(stub.requests).toHaveLength(10);
      expect(result.customers).toHaveLength(1_000);
    });

    it('fails with too_many_customers, naming the field but not the value, as soon as the total is past the cap', async () => {
      stub.fallback = fullPages(1_001);
      const error = await failure(client().searchCustomers('email', 'ann@example.com', budget()));

      expect(error).toBeInstanceOf(BadEventError);
      expect(error).toMatchObject({ code: 'too_many_customers', requests: 1 });
      expect(error.message).toContain('email');
      expect(error.message).not.toContain('ann@example.com');
      expect(stub.requests).toHaveLength(1);
    });

    it('fails with too_many_customers when a search without a total still has a full page after 10', async () => {
      stub.fallback = fullPages();
      const error = await failure(client().searchCustomers('userId', 'u-shared', budget()));

      expect(error).toMatchObject({ code: 'too_many_customers', requests: 10 });
      expect(error.message).toContain('userId');
      expect(error.message).not.toContain('u-shared');
    });

    it('counts the requests of earlier pages on a failure', async () => {
      const fullPage = { data: Array.from({ length: 100 }, (_, i) => customer(i + 1)), total: 150 };
      stub.enqueue({ status: 200, body: fullPage }, { status: 400, body: { errors: [{ message: 'bad offset' }] } });
      const error = await failure(client().searchCustomers('email', 'ann@example.com', budget()));
      expect(error).toBeInstanceOf(BadEventError);
      expect(error.requests).toBe(2);
    });

    it.each([
      ['no customer list', { customers: [] }],
      ['an id beyond 2^53', { data: [{ id: 2 ** 53 + 2 }], total: 1 }],
      ['a negative id', { data: [{ id: -4 }], total: 1 }],
      ['a fractional id', { data: [{ id: 1.5 }], total: 1 }],
    ])('rejects a body with %s, without calling anything else', async (_, body) => {
      stub.enqueue({ status: 200, body });
      const error = await failure(client().searchCustomers('email', 'ann@example.com', budget()));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.code).toBe('helpcrunch_unexpected_response');
      expect(stub.requests).toHaveLength(1);
    });

    it('treats a 404 as a wrong base URL (500), not as a bad event', async () => {
      stub.enqueue({ status: 404, body: '<html>Not Found</html>' });
      const error = await failure(client().searchCustomers('email', 'ann@example.com', budget()));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.code).toBe('helpcrunch_route_not_found');
    });
  });
});

describe('parseApiUrl', () => {
  it('defaults to the public API', () => {
    expect(parseApiUrl(undefined)).toBe(defaultApiUrl);
    expect(parseApiUrl('  ')).toBe('https://api.helpcrunch.com/v1');
  });

  it.each([
    ['https://api.helpcrunch.com/v1/', 'https://api.helpcrunch.com/v1'],
    ['https://api.helpcrunch.com/v1//', 'https://api.helpcrunch.com/v1'],
    ['http://127.0.0.1:4010/v1', 'http://127.0.0.1:4010/v1'],
    ['http://localhost:4010/v1', 'http://localhost:4010/v1'],
    ['http://[::1]:4010/v1/', 'http://[::1]:4010/v1'],
  ])('accepts %s', (input, expected) => {
    expect(parseApiUrl(input)).toBe(expected);
  });

  it.each([
    'https://api.helpcrunch.com',
    'https://api.helpcrunch.com/',
    'https://api.helpcrunch.com/v2',
    'https://proxy.example.com/api/v1',
    'http://127.0.0.1:4010',
  ])('refuses %s: the path must be /v1, or every call would answer 404', (input) => {
    expect(() => parseApiUrl(input)).toThrow(ConfigError);
    expect(() => parseApiUrl(input)).toThrow(/^HELPCRUNCH_API_URL must be the API's \/v1 base/);
  });

  it('never echoes the URL, which could carry credentials', () => {
    for (const input of [
      'https://user:s3cret@api.helpcrunch.com/v1',
      'https://api.helpcrunch.com/v1?key=s3cret',
      'https://s3cret.example.com/',
    ]) {
      expect(() => parseApiUrl(input)).toThrow(ConfigError);
      try {
        parseApiUrl(input);
      } catch (error) {
        expect((error as Error).message).not.toContain('s3cret');
      }
    }
  });

  it.each([
    'http://api.helpcrunch.com/v1',
    'http://10.0.0.5/v1',
    'ftp://api.helpcrunch.com',
    'not a url',
    'https://user:pass@api.helpcrunch.com/v1',
    'https://api.helpcrunch.com/v1?key=x',
  ])('rejects %s as ConfigError', (input) => {
    expect(() => parseApiUrl(input)).toThrow(ConfigError);
  });
});
