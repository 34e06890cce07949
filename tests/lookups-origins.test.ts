/**
 * LOOKUP_ORIGINS: read and checked like a lookup's baseUrl, then the origin of each named lookup
 * replaced, its path, query and `{id}` kept; a generic lookup rebased this way reaches a stand-in.
 */
import { describe, expect, it } from 'vitest';
import { readConfig } from '../lib/config';
import { ConfigError } from '../lib/errors';
import { parseLookupOrigins, withOrigins } from '../lib/lookups/origins';
import type { LookupConfig } from '../lib/rules/types';
import { fakeClock, resolverFor, secretSource, useVendorApis } from './support/lookups';

const lookups: Record<string, LookupConfig> = {
  stripe: { preset: 'stripe-customer', secretId: 's', cacheSeconds: 0 },
  pipedrive: { preset: 'pipedrive-person', baseUrl: 'https://acme.pipedrive.com', secretId: 'p', cacheSeconds: 0 },
  crm: {
    url: 'https://crm.example.com:8443/api/v1/contacts/{id}?fields=email',
    auth: { in: 'bearer' },
    secretId: 'c',
    select: { by: 'email', expression: 'data.email' },
    cacheSeconds: 0,
  },
  query: {
    url: 'https://crm.example.com/find?id={id}&x=1',
    auth: { in: 'query', name: 'token' },
    secretId: 'q',
    select: { by: 'userId', expression: 'id' },
    cacheSeconds: 0,
  },
};

describe('parseLookupOrigins', () => {
  it('is empty when unset or blank', () => {
    expect(parseLookupOrigins(undefined)).toEqual({});
    expect(parseLookupOrigins('  ')).toEqual({});
    expect(readConfig({}).lookupOrigins).toEqual({});
  });

  it('takes https origins, and http ones to this machine, normalised to the origin', () => {
    expect(
      parseLookupOrigins(
        '{"stripe": "http://127.0.0.1:4030", "crm": "HTTPS://Stand-In.Example.com:443/", "query": "http://[::1]:9"}',
      ),
    ).toEqual({
      stripe: 'http://127.0.0.1:4030',
      crm: 'https://stand-in.example.com',
      query: 'http://[::1]:9',
    });
  });

  it.each([
    ['not JSON', 'stripe=http://127.0.0.1', 'LOOKUP_ORIGINS is not JSON'],
    ['a list', '["http://127.0.0.1"]', 'must be a JSON object'],
    ['a value that is not a URL', '{"stripe": 42}', 'for lookup "stripe" must be an absolute URL'],
    [
      'plain http off this machine',
      '{"stripe": "http://api.example.com"}',
      'for lookup "stripe" must use https (plain http only to a loopback host)',
    ],
    ['a path', '{"stripe": "https://api.example.com/v1"}', 'for lookup "stripe" must be an origin only'],
    ['credentials', '{"stripe": "https://user:pass@api.example.com"}', 'must be an origin only'],
    ['a query', '{"stripe": "https://api.example.com/?a=1"}', 'must be an origin only'],
  ])('refuses %s, naming the lookup but never echoing the value', (_, raw, message) => {
    const error = (() => {
      try {
        parseLookupOrigins(raw);
      } catch (caught) {
        return caught as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'invalid_lookup_origins', status: 500 });
    expect(error.message).toContain(message);
    expect(error.message).not.toContain('pass');
  });

  it('is part of the runtime configuration, so a bad value answers a ConfigError on first use', () => {
    expect(() => readConfig({ LOOKUP_ORIGINS: '{"stripe": "ftp://127.0.0.1"}' })).toThrow(ConfigError);
  });
});

describe('withOrigins', () => {
  it('replaces a preset’s baseUrl and a generic URL’s origin, keeping path, query and {id}', () => {
    const rebased = withOrigins(lookups, {
      stripe: 'http://127.0.0.1:4030',
      pipedrive: 'http://127.0.0.1:4030',
      crm: 'http://localhost:9',
      query: 'http://127.0.0.1:9',
    });

    expect(rebased.stripe).toEqual({ ...lookups.stripe, baseUrl: 'http://127.0.0.1:4030' });
    expect(rebased.pipedrive).toMatchObject({ baseUrl: 'http://127.0.0.1:4030' });
    expect(rebased.crm).toMatchObject({ url: 'http://localhost:9/api/v1/contacts/{id}?fields=email' });
    expect(rebased.query).toMatchObject({ url: 'http://127.0.0.1:9/find?id={id}&x=1' });
    // The rules' own configuration is left as it is.
    expect(lookups.crm).toMatchObject({ url: 'https://crm.example.com:8443/api/v1/contacts/{id}?fields=email' });
  });

  it('leaves lookups it does not name alone, and refuses a name rules.yml has no lookup for', () => {
    expect(withOrigins(lookups, {})).toEqual(lookups);
    expect(() => withOrigins(lookups, { strip: 'http://127.0.0.1:1' })).toThrow(
      'LOOKUP_ORIGINS names "strip", which is not a lookup in rules.yml',
    );
    expect(() => withOrigins(lookups, { constructor: 'http://127.0.0.1:1' })).toThrow(ConfigError);
  });

  describe('a rebased generic lookup', () => {
    const api = useVendorApis();

    it('reaches the stand-in at the same path and query, the id percent-encoded in its place', async () => {
      api.vendors.script('*', { status: 200, body: { data: { email: 'ann@example.com' } }, times: 'always' });
      const clock = fakeClock();
      const resolver = resolverFor(withOrigins(lookups, { crm: api.origin }), secretSource('crm-token'), clock);

      expect((await resolver.resolve('crm', 'a/b c', clock.budget())).refs).toEqual([
        { by: 'email', value: 'ann@example.com' },
      ]);
      expect(api.vendors.requests.map((request) => request.path)).toEqual(['/api/v1/contacts/a%2Fb%20c?fields=email']);
    });
  });
});
