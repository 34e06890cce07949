import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BadEventError, ConfigError, RetryableError } from '../lib/errors';
import { defaultApiUrl, parseApiUrl } from '../lib/helpcrunch/api-url';
import { createHelpCrunchClient, type ApiKeySource, type HelpCrunchCustomer } from '../lib/helpcrunch/client';
import { RetryBudget, type RetryPolicy } from '../lib/http/retry';
import { helpCrunchCustomer } from '../local/sandbox/customer-store';
import {
  startHelpCrunchSandbox,
  type HelpCrunchSandbox,
  type SandboxAnswer,
  type SandboxCustomer,
} from '../local/sandbox/helpcrunch-sandbox';
import { closedPortUrl } from './support/closed-port';
import { documented } from './support/helpcrunch-fixtures';

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

/** A customer the sandbox holds; only customer 1 of the default ones is ann@example.com. */
const seeded = (id: number, email = 'ann@example.com'): SandboxCustomer => ({
  id,
  email,
  userId: `user-${id}`,
  name: 'Ann',
  tags: [{ name: 'trial', color: '#fff' }],
});
/** The customer as HelpCrunch answers it. */
const customer = (id: number): HelpCrunchCustomer => helpCrunchCustomer(seeded(id));
const sharingAnnsEmail = (count: number) => Array.from({ length: count }, (_, i) => seeded(i + 1));
/** Distinct connections the requests came over. */
const connections = (sandbox: HelpCrunchSandbox) => new Set(sandbox.requests.map((r) => r.remotePort)).size;

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
  let sandbox: HelpCrunchSandbox;
  let keys: ReturnType<typeof keySource>;
  const client = (options: { timeoutMs?: number; retryPolicy?: RetryPolicy } = {}) =>
    createHelpCrunchClient({ baseUrl: sandbox.url, apiKey: keys.source, retryPolicy: fastPolicy, ...options });
  /** The sandbox's next answers, for any request; then it answers on its own. */
  const answers = (...scripted: SandboxAnswer[]) => sandbox.script('*', ...scripted);

  beforeEach(async () => {
    sandbox = await startHelpCrunchSandbox({
      apiKey,
      customers: [seeded(1), seeded(2, 'bo@example.com'), seeded(7, 'cy@example.com'), seeded(42, 'di@example.com')],
    });
    keys = keySource(apiKey);
  });
  afterEach(async () => {
    await sandbox.close();
  });

  describe('untagCustomer', () => {
    it('sends DELETE /customers/<id>/tags with the tags as JSON and the bearer key', async () => {
      const result = await client().untagCustomer(42, ['trial', 'vip'], budget());

      expect(result).toEqual({ found: true, requests: 1 });
      expect(sandbox.requests).toHaveLength(1);
      const [request] = sandbox.requests;
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
      answers({ error: 'customerNotFound' });
      expect(await client().untagCustomer(7, ['trial'], budget())).toEqual({ found: false, requests: 1 });
      expect(sandbox.requests).toHaveLength(1);
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
      answers({ status: 404, body });
      const error = await failure(client().untagCustomer(7, ['trial'], budget()));

      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'helpcrunch_route_not_found', requests: 1 });
      expect(error.message).toContain('HELPCRUNCH_API_URL');
      expect(sandbox.requests).toHaveLength(1);
    });

    it('turns 400 into BadEventError, HelpCrunch’s reasons kept for the logs only, without retrying', async () => {
      answers({ status: 400, body: documented('error-400.json') });
      const error = await failure(client().untagCustomer(7, [''], budget()));

      expect(error).toBeInstanceOf(BadEventError);
      expect(error).toMatchObject({ code: 'helpcrunch_bad_request', requests: 1 });
      expect(error.message).toBe('HelpCrunch rejected the request (400)');
      expect((error as BadEventError).detail).toBe(
        'customer: This value should be of type numeric.; filter[0].field: This value should not be blank.',
      );
      expect(sandbox.requests).toHaveLength(1);
    });

    it('names other 4xx by status and caps a long reason', async () => {
      answers({ status: 422, body: { errors: [{ message: 'x'.repeat(5_000) }] } });
      const error = await failure(client().untagCustomer(7, ['trial'], budget()));

      expect(error).toBeInstanceOf(BadEventError);
      expect(error.code).toBe('helpcrunch_422');
      expect(error.message).toBe('HelpCrunch rejected the request (422)');
      expect((error as BadEventError).detail!.length).toBeLessThan(300);
    });

    it('retries 429 after Retry-After and counts every request', async () => {
      answers({ error: 'tooManyRequests', retryAfter: 0 });
      expect(await client().untagCustomer(7, ['trial'], budget())).toEqual({ found: true, requests: 2 });
      expect(sandbox.requests).toHaveLength(2);
    });

    it('gives up at once when Retry-After exceeds the budget, passing the wait on', async () => {
      answers({ error: 'tooManyRequests', retryAfter: 30 });
      const error = await failure(client().untagCustomer(7, ['trial'], budget(10_000)));

      expect(error).toBeInstanceOf(RetryableError);
      expect((error as RetryableError).retryAfterMs).toBeGreaterThanOrEqual(30_000);
      expect(error.message).toBe('HelpCrunch answered 429 on 1 attempt; time budget exhausted');
      expect(error.requests).toBe(1);
      expect(sandbox.requests).toHaveLength(1);
    });

    it('retries 5xx until HelpCrunch recovers', async () => {
      answers({ status: 502 }, { status: 500, body: 'oops' });
      expect(await client().untagCustomer(7, ['trial'], budget())).toEqual({ found: true, requests: 3 });
    });

    it('retries a request that times out', async () => {
      answers({ stall: true });
      const result = await client({ timeoutMs: 100 }).untagCustomer(7, ['trial'], budget());
      expect(result).toEqual({ found: true, requests: 2 });
      expect(sandbox.requests).toHaveLength(2);
    });

    it.each([
      ['accepts the connection and never answers', { stall: true }],
      ['sends its headers, then never ends the body', { cutShort: 'stall' }],
    ] satisfies [string, SandboxAnswer][])('gives up on a HelpCrunch that %s, within the budget', async (_, answer) => {
      answers({ ...answer, times: 'always' });
      const helpcrunch = client({ timeoutMs: 200, retryPolicy: { ...fastPolicy, maxAttempts: 2 } });
      const error = await failure(helpcrunch.untagCustomer(7, ['trial'], budget()));

      expect(error).toBeInstanceOf(RetryableError);
      expect(error.message).toBe('HelpCrunch did not answer within 200 ms on 2 attempts; attempt limit reached');
      expect(error.requests).toBe(2);
      expect(connections(sandbox)).toBe(2);
    });

    /**
     * A server that accepts connections and then does `onConnection` with each socket; it never closes them itself.
     * Raw TCP on purpose: an endless body without Content-Length is nothing the sandbox's HTTP answers send.
     */
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
      answers({ drop: true });
      expect(await client().untagCustomer(7, ['trial'], budget())).toEqual({ found: true, requests: 2 });
    });

    it('reuses one keep-alive connection across calls', async () => {
      const helpcrunch = client();
      await helpcrunch.untagCustomer(1, ['trial'], budget());
      await helpcrunch.untagCustomer(2, ['trial'], budget());
      expect(sandbox.requests[0]!.remotePort).toBe(sandbox.requests[1]!.remotePort);
    });

    it('on 401 re-reads the key with forceRefresh and retries once', async () => {
      keys = keySource(apiKey, rotatedKey);
      sandbox.rotateApiKey(rotatedKey);
      const result = await client().untagCustomer(7, ['trial'], budget());

      expect(result).toEqual({ found: true, requests: 2 });
      expect(keys.calls).toEqual([
        { budget: expect.any(RetryBudget) },
        { forceRefresh: true, budget: expect.any(RetryBudget) },
      ]);
      expect(sandbox.requests.map((request) => request.headers.authorization)).toEqual([
        `Bearer ${apiKey}`,
        `Bearer ${rotatedKey}`,
      ]);
    });

    it('re-sends with the refreshed key within the same attempt, so a single-attempt policy picks up a rotation', async () => {
      keys = keySource(apiKey, rotatedKey);
      sandbox.rotateApiKey(rotatedKey);
      const singleAttempt = client({ retryPolicy: { maxAttempts: 1, baseDelayMs: 250, maxDelayMs: 10_000 } });

      await expect(singleAttempt.untagCustomer(7, ['trial'], budget())).resolves.toEqual({ found: true, requests: 2 });
      expect(keys.calls.map((options) => options.forceRefresh)).toEqual([undefined, true]);
    });

    it('reports a key rejected again after the refresh as ConfigError, never showing the key', async () => {
      answers({ status: 403, body: { errors: [{ code: 'forbidden', message: 'bad key' }] }, times: 'always' });
      const error = await failure(client().untagCustomer(7, ['trial'], budget()));

      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'api_key_rejected', requests: 2 });
      expect(sandbox.requests).toHaveLength(2);
      expectNoKey(error);
    });

    it('passes a key source failure through as the same error', async () => {
      const unreadable = new ConfigError("Secret 'hc' cannot be read (AccessDeniedException)", 'secret_unreadable');
      const helpcrunch = createHelpCrunchClient({
        baseUrl: sandbox.url,
        apiKey: { get: async () => Promise.reject(unreadable) },
      });
      expect(await failure(helpcrunch.untagCustomer(7, ['trial'], budget()))).toBe(unreadable);
      expect(sandbox.requests).toHaveLength(0);
    });

    it('stops retrying when the time budget runs out', async () => {
      answers({ status: 503, times: 'always' });
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
      expect(error.requests).toBe(sandbox.requests.length);
      expect(error.requests).toBeGreaterThan(1);
    });

    it('wraps network failures without leaking the Authorization header', async () => {
      const helpcrunch = createHelpCrunchClient({
        baseUrl: `${await closedPortUrl()}/v1`,
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
      const result = await client().tagCustomer(42, ['Churned', 'Black Friday'], budget());

      expect(result).toEqual({ found: true, requests: 1 });
      expect(sandbox.requests).toEqual([
        expect.objectContaining({
          method: 'PUT',
          path: '/v1/customers/42/tags',
          body: { tags: [{ name: 'Churned' }, { name: 'Black Friday' }] },
        }),
      ]);
      expect(sandbox.requests[0]!.headers).toMatchObject({
        authorization: `Bearer ${apiKey}`,
        'content-type': expect.stringContaining('application/json'),
      });
    });

    it('reports found:false only on HelpCrunch’s 404 not_found; any other 404 is a configuration error', async () => {
      answers({ error: 'customerNotFound' }, { status: 404, body: { message: 'Not Found' } });

      expect(await client().tagCustomer(7, ['Churned'], budget())).toEqual({ found: false, requests: 1 });
      const error = await failure(client().tagCustomer(7, ['Churned'], budget()));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'helpcrunch_route_not_found', requests: 1 });
    });

    it('retries 429 and 5xx like untagCustomer, and refuses a 400 without retrying', async () => {
      answers({ error: 'tooManyRequests', retryAfter: 0 }, { status: 503 }, { pass: true }, { error: 'invalidTags' });

      expect(await client().tagCustomer(7, ['Churned'], budget())).toEqual({ found: true, requests: 3 });
      const error = await failure(client().tagCustomer(7, ['Churned'], budget()));
      expect(error).toBeInstanceOf(BadEventError);
      expect(error).toMatchObject({ code: 'helpcrunch_bad_request', requests: 1 });
    });

    it('re-reads a rejected key once and re-sends with it', async () => {
      keys = keySource(apiKey, rotatedKey);
      sandbox.rotateApiKey(rotatedKey);

      expect(await client().tagCustomer(7, ['Churned'], budget())).toEqual({ found: true, requests: 2 });
      expect(sandbox.requests.map((request) => request.headers.authorization)).toEqual([
        `Bearer ${apiKey}`,
        `Bearer ${rotatedKey}`,
      ]);
    });
  });

  describe('searchCustomers', () => {
    it('POSTs the filter for the field and returns the customers', async () => {
      const result = await client().searchCustomers('email', 'ann@example.com', budget());

      expect(result).toEqual({ customers: [customer(1)], requests: 1 });
      expect(sandbox.requests[0]).toMatchObject({
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
      expect(await client().searchCustomers('userId', 'u-1', budget())).toEqual({ customers: [], requests: 1 });
      expect(sandbox.requests[0]!.body).toMatchObject({ filter: [{ field: 'customers.userId', value: 'u-1' }] });
    });

    it('pages with offset until total is reached, summing requests', async () => {
      const total = 230;
      sandbox.reset(sharingAnnsEmail(total));
      answers({ status: 503 });
      const result = await client().searchCustomers('email', 'ann@example.com', budget());

      expect(result.customers.map((c) => c.id)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(sandbox.requests.map((request) => (request.body as { offset: number }).offset)).toEqual([0, 0, 100, 200]);
      expect(result.requests).toBe(4);
    });

    it('takes up to 1,000 customers (10 pages of 100)', async () => {
      sandbox.reset(sharingAnnsEmail(1_000));
      const result = await client().searchCustomers('email', 'ann@example.com', budget());
      expect(sandbox.requests).toHaveLength(10);
      expect(result.customers).toHaveLength(1_000);
    });

    it('fails with too_many_customers, naming the field but not the value, as soon as the total is past the cap', async () => {
      sandbox.reset(sharingAnnsEmail(1_001));
      const error = await failure(client().searchCustomers('email', 'ann@example.com', budget()));

      expect(error).toBeInstanceOf(BadEventError);
      expect(error).toMatchObject({ code: 'too_many_customers', requests: 1 });
      expect(error.message).toContain('email');
      expect(error.message).not.toContain('ann@example.com');
      expect(sandbox.requests).toHaveLength(1);
    });

    it('fails with too_many_customers when a search without a total still has a full page after 10', async () => {
      // Ten full pages of customers sharing one userId, without HelpCrunch's `total`.
      answers(
        ...Array.from({ length: 10 }, (_, page) => ({
          status: 200,
          body: { data: Array.from({ length: 100 }, (_, i) => customer(page * 100 + i + 1)) },
        })),
      );
      const error = await failure(client().searchCustomers('userId', 'u-shared', budget()));

      expect(error).toMatchObject({ code: 'too_many_customers', requests: 10 });
      expect(error.message).toContain('userId');
      expect(error.message).not.toContain('u-shared');
    });

    it('counts the requests of earlier pages on a failure', async () => {
      sandbox.reset(sharingAnnsEmail(150));
      answers({ pass: true }, { error: 'invalidPagination' });
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
      answers({ status: 200, body });
      const error = await failure(client().searchCustomers('email', 'ann@example.com', budget()));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.code).toBe('helpcrunch_unexpected_response');
      expect(sandbox.requests).toHaveLength(1);
    });

    it('treats a 404 as a wrong base URL (500), not as a bad event', async () => {
      answers({ status: 404, body: '<html>Not Found</html>' });
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
