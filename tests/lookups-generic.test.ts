/**
 * Generic lookups: the payload's id only ever fills the template's `{id}` (one path segment or one
 * query value), the secret goes where `auth` says, and `select` turns the JSON answer into
 * HelpCrunch references.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/errors';
import { lookupUrl } from '../lib/lookups/generic';
import type { DirectCustomerKind, LookupAuth, LookupConfig } from '../lib/rules/types';
import { fakeClock, rejection, resolverFor, secretSource, useVendorApis } from './support/lookups';

const secret = 's3cr3t/+&=?#value';

describe('generic lookups', () => {
  const api = useVendorApis();

  function lookup(options: { url?: string; auth?: LookupAuth; by?: DirectCustomerKind; expression?: string } = {}) {
    const config: LookupConfig = {
      url: options.url ?? `${api.origin}/v2/users/{id}`,
      auth: options.auth ?? { in: 'bearer' },
      secretId: 'crm-key',
      select: { by: options.by ?? 'email', expression: options.expression ?? 'user.email' },
      cacheSeconds: 0,
    };
    const clock = fakeClock();
    const resolver = resolverFor({ crm: config }, secretSource(secret), clock);
    return (id: string) => resolver.resolve('crm', id, clock.budget());
  }

  describe('the URL', () => {
    it.each([
      ['a/b', '/v2/users/a%2Fb/profile'],
      ['../x', '/v2/users/..%2Fx/profile'],
      ['?q=1#frag', '/v2/users/%3Fq%3D1%23frag/profile'],
      ['%2F', '/v2/users/%252F/profile'],
      ['ü🙂', '/v2/users/%C3%BC%F0%9F%99%82/profile'],
      ['...', '/v2/users/.../profile'],
    ])('keeps %j one path segment', async (id, path) => {
      api.vendors.script('*', { status: 200, body: { user: { email: 'ann@example.com' } } });
      await lookup({ url: `${api.origin}/v2/users/{id}/profile` })(id);
      expect(api.vendors.requests[0]).toMatchObject({ method: 'GET', path });
    });

    it('keeps the id one query value, the rest of the query untouched', async () => {
      api.vendors.script('*', { status: 200, body: { user: { email: 'ann@example.com' } } });
      await lookup({ url: `${api.origin}/find?expand=user%20profile&id={id}` })('a&b=c d+e');
      expect(api.vendors.requests[0]!.path).toBe('/find?expand=user%20profile&id=a%26b%3Dc%20d%2Be');
    });

    it('never lets the id change the origin', () => {
      for (const id of ['@evil.example', '//evil.example', 'x:y@evil.example', '\\\\evil.example']) {
        expect(lookupUrl('https://api.example.com/users/{id}', id).origin).toBe('https://api.example.com');
        expect(lookupUrl('https://api.example.com/find?id={id}', id).origin).toBe('https://api.example.com');
      }
    });

    it('drops a fragment from the template: it is never sent', () => {
      expect(lookupUrl('https://api.example.com/users/{id}#top', '1').href).toBe('https://api.example.com/users/1');
    });
  });

  describe('auth', () => {
    it.each<[string, LookupAuth, Record<string, string>]>([
      ['bearer', { in: 'bearer' }, { authorization: `Bearer ${secret}` }],
      ['a header', { in: 'header', name: 'X-Api-Key' }, { 'x-api-key': secret }],
    ])('%s', async (_case, auth, headers) => {
      api.vendors.script('*', { status: 200, body: { user: { email: 'ann@example.com' } } });
      await lookup({ auth })('7');
      expect(api.vendors.requests[0]!.headers).toMatchObject(headers);
    });

    it('basic: the secret is user:password', async () => {
      const clock = fakeClock();
      const config: LookupConfig = {
        url: `${api.origin}/u/{id}`,
        auth: { in: 'basic' },
        secretId: 'k',
        select: { by: 'email', expression: 'email' },
        cacheSeconds: 0,
      };
      api.vendors.script('*', { status: 200, body: { email: 'ann@example.com' } });
      await resolverFor({ crm: config }, secretSource('api:pa:ss'), clock).resolve('crm', '7', clock.budget());
      expect(api.vendors.requests[0]!.headers.authorization).toBe(
        `Basic ${Buffer.from('api:pa:ss').toString('base64')}`,
      );

      const error = await rejection(
        resolverFor({ crm: config }, secretSource('no-colon'), clock).resolve('crm', '7', clock.budget()),
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'secret_unreadable' });
      expect(error.message).not.toContain('no-colon');
    });

    it('query: appended as its own parameter, encoded, after an existing query or as the first', async () => {
      api.vendors.script(
        '*',
        { status: 200, body: { user: { email: 'a@example.com' } } },
        { status: 200, body: { user: { email: 'a@example.com' } } },
      );
      await lookup({ url: `${api.origin}/find?id={id}`, auth: { in: 'query', name: 'api_token' } })('7');
      await lookup({ url: `${api.origin}/users/{id}`, auth: { in: 'query', name: 'api_token' } })('7');
      expect(api.vendors.requests.map((request) => request.path)).toEqual([
        `/find?id=7&api_token=${encodeURIComponent(secret)}`,
        `/users/7?api_token=${encodeURIComponent(secret)}`,
      ]);
      expect(api.vendors.requests[0]!.headers.authorization).toBeUndefined();
    });
  });

  describe('select', () => {
    it.each<[string, DirectCustomerKind, string, unknown, unknown[]]>([
      [
        'an email',
        'email',
        'user.email',
        { user: { email: 'ann@example.com' } },
        [{ by: 'email', value: 'ann@example.com' }],
      ],
      [
        'a list: several customers, duplicates once, non-strings skipped',
        'email',
        'emails',
        { emails: ['a@x.io', 'b@x.io', 'a@x.io', null, 3, ''] },
        [
          { by: 'email', value: 'a@x.io' },
          { by: 'email', value: 'b@x.io' },
        ],
      ],
      ['a helpcrunchId number', 'helpcrunchId', 'hc', { hc: 1001 }, [{ by: 'helpcrunchId', value: 1001 }]],
      ['a helpcrunchId digit string', 'helpcrunchId', 'hc', { hc: '1001' }, [{ by: 'helpcrunchId', value: 1001 }]],
      ['a userId number as a string', 'userId', 'uid', { uid: 42 }, [{ by: 'userId', value: '42' }]],
      ['a userId string', 'userId', 'uid', { uid: 'u-ada' }, [{ by: 'userId', value: 'u-ada' }]],
      ['a missing field', 'email', 'user.email', { user: {} }, []],
      ['an object where a value was expected', 'email', 'user', { user: { email: 'x@example.com' } }, []],
      ['a helpcrunchId of 0', 'helpcrunchId', 'hc', { hc: 0 }, []],
      ['a negative helpcrunchId', 'helpcrunchId', 'hc', { hc: -5 }, []],
      ['a fractional helpcrunchId', 'helpcrunchId', 'hc', { hc: 1.5 }, []],
      ['a helpcrunchId beyond 2^53', 'helpcrunchId', 'hc', { hc: 2 ** 53 }, []],
      ['a userId number beyond 2^53', 'userId', 'uid', { uid: 2 ** 60 }, []],
      ['a blank email', 'email', 'e', { e: '   ' }, []],
    ])('%s', async (_case, by, expression, body, refs) => {
      api.vendors.script('*', { status: 200, body });
      expect((await lookup({ by, expression })('7')).refs).toEqual(refs);
    });

    it('lower() and friends work on the answer', async () => {
      api.vendors.script('*', { status: 200, body: { user: { email: ' Ann@Example.COM ' } } });
      expect((await lookup({ expression: 'lower(trim(user.email))' })('7')).refs).toEqual([
        { by: 'email', value: 'ann@example.com' },
      ]);
    });

    // An empty body or a 204 is no record: lookup_failed (tests/lookups-strict-answers.test.ts).
    it('a 404 is "not found"', async () => {
      api.vendors.script('*', { status: 404, body: { whatever: true } });
      expect(await lookup()('7')).toEqual({ refs: [], requests: 1 });
    });

    it('an expression that fails on the answer is a lookup failure, not "not found"', async () => {
      api.vendors.script('*', { status: 200, body: { user: { email: null } } });
      const error = await rejection(lookup({ expression: 'lower(user.email)' })('7'));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.code).toBe('lookup_failed');
      expect(error.message).toContain('select.email (lower(user.email))');
    });

    it('more customers than one event may change is refused', async () => {
      api.vendors.script('*', {
        status: 200,
        body: { emails: Array.from({ length: 101 }, (_, index) => `c${index}@example.com`) },
      });
      expect(await rejection(lookup({ expression: 'emails' })('7'))).toMatchObject({
        code: 'lookup_too_many',
        requests: 1,
      });
    });
  });
});
