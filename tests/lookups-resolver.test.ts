/**
 * The resolver's contract: HelpCrunch's retry policy and time budget (on an injected clock), no
 * redirects, a bounded answer size, a per-container cache with a TTL, shared in-flight requests,
 * and no failure ever passed off as "not found".
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadEventError, ConfigError, RetryableError } from '../lib/errors';
import type { LookupResolverOptions } from '../lib/lookups/resolver';
import type { LookupConfig } from '../lib/rules/types';
import { fakeClock, rejection, resolverFor, secretSource, useVendorApis } from './support/lookups';

const found = { status: 200, body: { email: 'ann@example.com' } };
const ann = [{ by: 'email', value: 'ann@example.com' }];

describe('lookup resolver', () => {
  const api = useVendorApis();

  const config = (url = `${api.origin}/users/{id}`, cacheSeconds = 0): LookupConfig => ({
    url,
    auth: { in: 'bearer' },
    secretId: 'crm-key',
    select: { by: 'email', expression: 'email' },
    cacheSeconds,
  });

  function setup(
    options: {
      url?: string;
      cacheSeconds?: number;
      secrets?: LookupResolverOptions['secrets'];
    } & Partial<LookupResolverOptions> = {},
  ) {
    const clock = fakeClock();
    const { url, cacheSeconds, secrets = secretSource('key'), ...rest } = options;
    const resolver = resolverFor({ crm: config(url, cacheSeconds) }, secrets, clock, rest);
    return { clock, resolve: (id = '7', budgetMs?: number) => resolver.resolve('crm', id, clock.budget(budgetMs)) };
  }

  describe('retries, as HelpCrunch calls', () => {
    it('retries a 429 no sooner than its Retry-After', async () => {
      api.vendors.script('*', { status: 429, headers: { 'retry-after': '2' } }, found);
      const { clock, resolve } = setup();
      expect(await resolve()).toEqual({ refs: ann, requests: 2 });
      expect(clock.slept).toEqual([2_000]);
    });

    it('retries 5xx until the API recovers', async () => {
      api.vendors.script('*', { status: 502 }, { status: 503, body: 'oops' }, found);
      const { clock, resolve } = setup();
      expect(await resolve()).toEqual({ refs: ann, requests: 3 });
      expect(clock.slept).toHaveLength(2);
    });

    it('gives up with lookup_unavailable at the attempt limit, never as "not found"', async () => {
      api.vendors.script('*', { status: 500, times: 'always' });
      const error = await rejection(setup().resolve());
      expect(error).toBeInstanceOf(RetryableError);
      expect(error).toMatchObject({ code: 'lookup_unavailable', requests: 5 });
      expect(error.message).toBe(
        `Lookup "crm": ${new URL(api.origin).host} answered 500 on 5 attempts; attempt limit reached`,
      );
    });

    it('never sleeps past the budget: a Retry-After beyond it fails at once, passing the wait on', async () => {
      api.vendors.script('*', { status: 429, headers: { 'retry-after': '60' } });
      const { clock, resolve } = setup();
      const error = await rejection(resolve('7', 10_000));
      expect(error).toMatchObject({ code: 'lookup_unavailable', requests: 1, retryAfterMs: 60_000 });
      expect(error.message).toContain('time budget exhausted');
      expect(clock.slept).toEqual([]);
    });

    it('stops when the budget is spent by backoff', async () => {
      api.vendors.script('*', { status: 503, headers: { 'retry-after': '3' }, times: 'always' });
      const { clock, resolve } = setup();
      const start = clock.ms;
      const error = await rejection(resolve('7', 8_000));
      expect(error).toMatchObject({ code: 'lookup_unavailable' });
      expect(clock.ms - start).toBeLessThanOrEqual(8_000);
      expect(clock.slept).toEqual([3_000, 3_000]);
    });

    it('a budget already spent makes no request', async () => {
      const error = await rejection(setup().resolve('7', 0));
      expect(error).toMatchObject({ code: 'lookup_unavailable', requests: 0 });
      expect(api.vendors.requests).toEqual([]);
    });

    it('does not retry other 4xx: lookup_failed naming the status', async () => {
      api.vendors.script('*', { status: 422, body: { error: 'bad id' } });
      const error = await rejection(setup().resolve());
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'lookup_failed', requests: 1 });
      expect(error.message).toBe(`Lookup "crm": ${new URL(api.origin).host} answered 422`);
    });

    it('does not follow a redirect', async () => {
      api.vendors.script('*', { status: 302, headers: { location: `${api.origin}/elsewhere` } });
      const error = await rejection(setup().resolve());
      expect(error).toMatchObject({ code: 'lookup_failed', requests: 1 });
      expect(error.message).toContain('answered 302, a redirect, which is not followed');
      expect(api.vendors.requests.map((request) => request.path)).toEqual(['/users/7']);
    });

    it('secrets that cannot be read pass through as they are', async () => {
      const secrets = {
        get: async () =>
          Promise.reject(new RetryableError('Secrets Manager unavailable', undefined, 'secrets_unavailable')),
      };
      expect(await rejection(setup({ secrets }).resolve())).toMatchObject({ code: 'secrets_unavailable', requests: 0 });
      expect(await rejection(setup({ secrets: secretSource('  ') }).resolve())).toMatchObject({
        code: 'secret_unreadable',
      });
      expect(await rejection(setup({ secrets: secretSource('line\nbreak') }).resolve())).toMatchObject({
        code: 'secret_unreadable',
      });
    });
  });

  describe('a dependency that misbehaves', () => {
    let silent: { server: ReturnType<typeof createTcpServer>; sockets: Set<Socket>; origin: string };
    beforeAll(async () => {
      const sockets = new Set<Socket>();
      // Accepts connections and never answers.
      const server = createTcpServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      silent = { server, sockets, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    });
    afterAll(async () => {
      for (const socket of silent.sockets) socket.destroy();
      await new Promise((resolve) => silent.server.close(resolve));
    });

    it('a server that accepts and never answers: each attempt times out, then lookup_unavailable', async () => {
      const { resolve } = setup({ url: `${silent.origin}/users/{id}`, timeoutMs: 50 });
      const error = await rejection(resolve());
      expect(error).toMatchObject({ code: 'lookup_unavailable', requests: 5 });
      expect(error.message).toContain('did not answer within 50 ms');
    });

    it('a closed port: lookup_unavailable, unreachable', async () => {
      const closed = createTcpServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      const error = await rejection(setup({ url: `http://127.0.0.1:${port}/users/{id}` }).resolve());
      expect(error).toMatchObject({ code: 'lookup_unavailable' });
      expect(error.message).toContain('unreachable (ECONNREFUSED)');
    });

    describe('raw answers', () => {
      let raw: Server;
      let reply: (res: import('node:http').ServerResponse) => void;
      let rawOrigin: string;
      beforeAll(async () => {
        raw = createHttpServer((_req, res) => reply(res));
        await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
        rawOrigin = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
      });
      afterAll(async () => {
        raw.closeAllConnections();
        await new Promise((resolve) => raw.close(resolve));
      });

      it('an answer over 1 MiB is refused, not retried', async () => {
        reply = (res) => res.end(JSON.stringify({ email: 'x'.repeat(1_100_000) }));
        const error = await rejection(setup({ url: `${rawOrigin}/u/{id}` }).resolve());
        expect(error).toMatchObject({ code: 'lookup_failed', requests: 1 });
        expect(error.message).toContain('more than 1048576 bytes');
      });

      it('a 200 that is not JSON fails; it does not find "no one"', async () => {
        reply = (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
        expect(await rejection(setup({ url: `${rawOrigin}/u/{id}` }).resolve())).toMatchObject({
          code: 'lookup_failed',
        });
      });

      it('deeply nested answers are read without crashing the container', async () => {
        reply = (res) => res.end(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
        expect(await setup({ url: `${rawOrigin}/u/{id}` }).resolve()).toEqual({ refs: [], requests: 1 });
      });
    });
  });

  describe('ids', () => {
    it.each([
      ['empty', ''],
      ['"."', '.'],
      ['".."', '..'],
      ['not valid Unicode', 'a\uD800b'],
      ['too long', 'x'.repeat(513)],
    ])('refuses an id that is %s, without a request', async (_case, id) => {
      const error = await rejection(setup().resolve(id));
      expect(error).toBeInstanceOf(BadEventError);
      expect(error.code).toBe('invalid_customer');
      expect(api.vendors.requests).toEqual([]);
    });

    it('an unknown lookup name is a configuration error', async () => {
      const clock = fakeClock();
      const resolver = resolverFor({}, secretSource('k'), clock);
      for (const name of ['crm', 'constructor', '__proto__']) {
        expect(await rejection(resolver.resolve(name, '7', clock.budget()))).toMatchObject({ code: 'lookup_unknown' });
      }
    });
  });

  describe('cache', () => {
    it('answers a second resolve without a request, until cacheSeconds pass', async () => {
      api.vendors.script('*', { ...found, times: 'always' });
      const { clock, resolve } = setup({ cacheSeconds: 60 });
      expect(await resolve()).toEqual({ refs: ann, requests: 1 });
      clock.ms += 59_999;
      expect(await resolve()).toEqual({ refs: ann, requests: 0 });
      clock.ms += 1;
      expect(await resolve()).toEqual({ refs: ann, requests: 1 });
      expect(api.vendors.requests).toHaveLength(2);
    });

    it('cacheSeconds 0 asks every time', async () => {
      api.vendors.script('*', { ...found, times: 'always' });
      const { resolve } = setup({ cacheSeconds: 0 });
      await resolve();
      await resolve();
      expect(api.vendors.requests).toHaveLength(2);
    });

    it('keeps no "not found" and no failure', async () => {
      api.vendors.script(
        '*',
        { status: 404 },
        { status: 500 },
        { status: 500 },
        { status: 500 },
        { status: 500 },
        { status: 500 },
        found,
      );
      const { resolve } = setup({ cacheSeconds: 60 });
      expect((await resolve()).refs).toEqual([]);
      expect(await rejection(resolve())).toMatchObject({ code: 'lookup_unavailable' });
      expect(await resolve()).toEqual({ refs: ann, requests: 1 });
    });

    it('is bounded: the least recently used answer goes first', async () => {
      api.vendors.script('*', { ...found, times: 'always' });
      const { resolve } = setup({ cacheSeconds: 60, cacheEntries: 2 });
      await resolve('1');
      await resolve('2');
      await resolve('1'); // 1 is now the most recently used
      await resolve('3'); // evicts 2
      expect((await resolve('1')).requests).toBe(0);
      expect((await resolve('2')).requests).toBe(1);
    });

    it('a caller cannot change what the cache holds', async () => {
      api.vendors.script('*', { ...found, times: 'always' });
      const { resolve } = setup({ cacheSeconds: 60 });
      (await resolve()).refs.length = 0;
      expect((await resolve()).refs).toEqual(ann);
    });

    it('concurrent resolves of one id share one request', async () => {
      api.vendors.script('*', { ...found, delayMs: 30 });
      const { resolve } = setup({ cacheSeconds: 0 });
      const results = await Promise.all([resolve(), resolve(), resolve()]);
      expect(results).toEqual([
        { refs: ann, requests: 1 },
        { refs: ann, requests: 0 },
        { refs: ann, requests: 0 },
      ]);
      expect(api.vendors.requests).toHaveLength(1);
    });
  });
});
