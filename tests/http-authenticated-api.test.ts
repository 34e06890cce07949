/**
 * The one authenticated call path (lib/http/authenticated-api.ts) on its own, over real HTTP on
 * loopback: request counts that come back typed, on the value and on any failure; the give-up
 * error carrying the caller's code from the start; one credential refresh per call; answers handed
 * back with their body read as empty, JSON or neither.
 */
import { describe, expect, it } from 'vitest';
import { BadEventError, ConfigError, RetryableError, UntagError } from '../lib/errors';
import {
  createAuthenticatedApi,
  type ApiProfile,
  type AuthenticatedApiOptions,
  type Credential,
  type Send,
} from '../lib/http/authenticated-api';
import { fakeClock } from './support/lookups';
import { useRawServer, type RawReply } from './support/raw-server';

const profile: ApiProfile = {
  name: (url) => (url ? `Test API at ${url.host}` : 'Test API'),
  codes: { unavailable: 'test_unavailable', refused: 'test_refused', tooLarge: 'test_too_large' },
};

/** Serves `values` in turn (the last one repeats), recording each read's forceRefresh. */
function credentialOf(values: string[], resendUnchanged: boolean) {
  const reads: boolean[] = [];
  const credential: Credential = {
    async read(forceRefresh) {
      reads.push(forceRefresh);
      return values[Math.min(reads.length - 1, values.length - 1)]!;
    },
    resendUnchanged,
  };
  return { credential, reads };
}

describe('authenticated call path', () => {
  const raw = useRawServer();
  const seen = () => raw.requests.map(({ path, headers }) => ({ path, authorization: headers.authorization }));

  function setup(options: Partial<AuthenticatedApiOptions> = {}) {
    const clock = fakeClock();
    const api = createAuthenticatedApi({
      maxAnswerBytes: 1024,
      timeoutMs: 1_000,
      retryPolicy: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10 },
      now: clock.now,
      sleep: clock.sleep,
      random: () => 1,
      ...options,
    });
    const get = (path: string) => (send: Send) =>
      send((secret) => ({
        method: 'GET',
        url: new URL(`${raw.origin}${path}`),
        headers: { Authorization: `Bearer ${secret}` },
      }));
    return { api, clock, get };
  }

  describe('request counts', () => {
    it('come back with the value: every request, retries and the credential re-send included', async () => {
      raw.replies = [{ status: 401 }, { status: 503 }, { status: 200, body: '{"ok":true}' }];
      const { api, clock, get } = setup();
      const { credential } = credentialOf(['old', 'new'], false);
      const result = await api.call(profile, credential, clock.budget().budget, async (send) => {
        const answer = await get('/a')(send);
        return answer.body;
      });
      expect(result).toEqual({ value: { kind: 'json', value: { ok: true } }, requests: 3 });
      expect(seen().map((request) => request.authorization)).toEqual(['Bearer old', 'Bearer new', 'Bearer new']);
    });

    it('ride on the caller’s own failure, which leaves as the same error', async () => {
      const { api, clock, get } = setup();
      const refused = new BadEventError('not_this_one', 'The second answer is refused');
      const error = await api
        .call(profile, credentialOf(['k'], false).credential, clock.budget().budget, async (send) => {
          await get('/first')(send);
          await get('/second')(send);
          throw refused;
        })
        .catch((failure: unknown) => failure);
      expect(error).toBe(refused);
      expect(refused.requests).toBe(2);
    });

    it('ride on a failure that is no UntagError too, which becomes internal_error without its message', async () => {
      const { api, clock, get } = setup();
      const error = await api
        .call(profile, credentialOf(['k'], false).credential, clock.budget().budget, async (send) => {
          await get('/a')(send);
          throw new TypeError('secret-looking detail');
        })
        .catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(UntagError);
      expect(error).toMatchObject({ code: 'internal_error', requests: 1 });
      expect((error as Error).message).not.toContain('secret-looking');
    });

    it('are counted per call: two calls on one API each count their own', async () => {
      const { api, clock, get } = setup();
      const { credential } = credentialOf(['k'], false);
      const first = await api.call(profile, credential, clock.budget().budget, get('/a'));
      const second = await api.call(profile, credential, clock.budget().budget, async (send) => {
        await get('/b')(send);
        return get('/c')(send);
      });
      expect([first.requests, second.requests]).toEqual([1, 2]);
    });
  });

  describe('giving up', () => {
    it('throws a RetryableError with the profile’s code from the start, naming the host and keeping Retry-After', async () => {
      raw.replies = [{ status: 429, headers: { 'retry-after': '2' } }];
      const { api, clock, get } = setup();
      const error = await api
        .call(profile, credentialOf(['k'], false).credential, clock.budget().budget, get('/a'))
        .catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(RetryableError);
      expect(error).toMatchObject({
        code: 'test_unavailable',
        requests: 3,
        retryAfterMs: 2_000,
        message: `Test API at ${new URL(raw.origin).host} answered 429 on 3 attempts; attempt limit reached`,
      });
      expect(clock.slept).toEqual([2_000, 2_000]);
    });

    it('reads an HTTP-date Retry-After against the injected clock', async () => {
      const { api, clock, get } = setup();
      raw.replies = [
        { status: 503, headers: { 'retry-after': new Date(clock.ms + 5_000).toUTCString() } },
        { status: 200, body: '{}' },
      ];
      await api.call(profile, credentialOf(['k'], false).credential, clock.budget().budget, get('/a'));
      expect(clock.slept).toEqual([5_000]);
    });

    it('without time for one attempt, makes no request and names the API', async () => {
      const { api, clock, get } = setup();
      const error = await api
        .call(profile, credentialOf(['k'], false).credential, clock.budget(0).budget, get('/a'))
        .catch((failure: unknown) => failure);
      expect(error).toMatchObject({
        code: 'test_unavailable',
        requests: 0,
        message: 'Test API: time budget exhausted before the first attempt',
      });
      expect(seen()).toEqual([]);
    });

    it('refuses an answer over maxAnswerBytes with the profile’s code, without retrying', async () => {
      raw.replies = [{ status: 200, body: JSON.stringify({ pad: 'x'.repeat(2_000) }) }];
      const { api, clock, get } = setup();
      const error = await api
        .call(profile, credentialOf(['k'], false).credential, clock.budget().budget, get('/a'))
        .catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'test_too_large', requests: 1 });
    });
  });

  describe('a refused credential', () => {
    it('is read again bypassing caches and re-sent once per call, however many requests the call makes', async () => {
      raw.replies = [{ status: 401 }, { status: 200, body: '{}' }, { status: 403 }];
      const { api, clock, get } = setup();
      const { credential, reads } = credentialOf(['old', 'new'], false);
      const error = await api
        .call(profile, credential, clock.budget().budget, async (send) => {
          await get('/first')(send);
          return get('/second')(send);
        })
        .catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'test_refused', requests: 3 });
      expect(reads).toEqual([false, true, false]);
      expect(seen().map((request) => request.path)).toEqual(['/first', '/first', '/second']);
    });

    it('read again unchanged is not re-sent unless the API asks for that', async () => {
      raw.replies = [{ status: 401 }];
      const { api, clock, get } = setup();
      const once = await api
        .call(profile, credentialOf(['same'], false).credential, clock.budget().budget, get('/a'))
        .catch((failure: unknown) => failure);
      expect(once).toMatchObject({ code: 'test_refused', requests: 1 });
      const twice = await api
        .call(profile, credentialOf(['same'], true).credential, clock.budget().budget, get('/a'))
        .catch((failure: unknown) => failure);
      expect(twice).toMatchObject({ code: 'test_refused', requests: 2 });
    });
  });

  describe('answers', () => {
    it.each<[string, RawReply, unknown]>([
      ['an empty 200', { status: 200, body: '' }, { kind: 'empty' }],
      ['a 204', { status: 204 }, { kind: 'empty' }],
      ['JSON', { status: 200, body: ' [1,2] ' }, { kind: 'json', value: [1, 2] }],
      ['JSON null', { status: 200, body: 'null' }, { kind: 'json', value: null }],
      ['an HTML page', { status: 200, body: '<html>login</html>' }, { kind: 'not_json' }],
      ['a 404 with JSON', { status: 404, body: '{"error":"nope"}' }, { kind: 'json', value: { error: 'nope' } }],
      ['a redirect', { status: 302, headers: { location: '/elsewhere' } }, { kind: 'empty' }],
    ])('%s comes back with its status, read as it is, unjudged', async (_case, reply, body) => {
      raw.replies = [reply];
      const { api, clock, get } = setup();
      const { value, requests } = await api.call(
        profile,
        credentialOf(['k'], false).credential,
        clock.budget().budget,
        get('/a'),
      );
      expect(value).toEqual({ status: reply.status, body, url: new URL(`${raw.origin}/a`) });
      expect(requests).toBe(1);
      expect(seen().map((request) => request.path)).toEqual(['/a']);
    });
  });
});
