/**
 * Each preset against the vendor stand-ins: the exact request (method, path, query, auth), the
 * answer read as the vendor documents it, hostile ids kept inside one path segment, and a rejected
 * key re-read once before the lookup fails without naming it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadEventError, ConfigError } from '../lib/errors';
import type { LookupConfig, LookupPreset } from '../lib/rules/types';
import { startVendorApis, type VendorApis, type VendorKeys } from '../local/sandbox/vendor-apis';
import { fakeClock, rejection, resolverFor, secretSource, useVendorApis } from './support/lookups';

const presetOf: Record<string, { preset: LookupPreset; vendor: keyof VendorKeys }> = {
  stripe: { preset: 'stripe-customer', vendor: 'stripe' },
  paddle: { preset: 'paddle-customer', vendor: 'paddle' },
  pipedrive: { preset: 'pipedrive-person', vendor: 'pipedrive' },
  contact: { preset: 'hubspot-contact', vendor: 'hubspot' },
  deal: { preset: 'hubspot-deal-contacts', vendor: 'hubspot' },
};

describe('lookup presets', () => {
  let vendors: VendorApis;
  const lookups = (baseUrl: string): Record<string, LookupConfig> =>
    Object.fromEntries(
      Object.entries(presetOf).map(([name, { preset }]) => [
        name,
        { preset, baseUrl, secretId: `${name}-secret`, cacheSeconds: 0 },
      ]),
    );

  /** A resolver whose secrets are the stand-ins' keys. */
  function resolver(baseUrl = vendors.url) {
    const clock = fakeClock();
    const keys = new Map(
      Object.entries(presetOf).map(([name, { vendor }]) => [`${name}-secret`, vendors.keys[vendor]]),
    );
    const secrets = { get: async (secretId: string) => keys.get(secretId)! };
    const lookup = resolverFor(lookups(baseUrl), secrets, clock);
    return (name: string, id: string) => lookup.resolve(name, id, clock.budget());
  }
  const lastRequest = () => vendors.requests.at(-1)!;

  beforeAll(async () => {
    vendors = await startVendorApis();
  });
  afterAll(async () => {
    await vendors.close();
  });

  describe('stripe-customer', () => {
    it('GETs /v1/customers/{id} with the secret key as Bearer and selects the email', async () => {
      expect(await resolver()('stripe', 'cus_Qh7GraceHopper')).toEqual({
        refs: [{ by: 'email', value: 'grace@example.com' }],
        requests: 1,
      });
      expect(lastRequest()).toMatchObject({ method: 'GET', path: '/v1/customers/cus_Qh7GraceHopper' });
      expect(lastRequest().headers).toMatchObject({
        authorization: `Bearer ${vendors.keys.stripe}`,
        accept: 'application/json',
      });
    });

    it.each([
      ['a deleted customer (200 with deleted: true)', 'cus_DeletedCustomr'],
      ['a customer without email', 'cus_NoEmailCustomer'],
      ['an unknown id (404 resource_missing)', 'cus_Unknown'],
    ])('finds no one for %s', async (_case, id) => {
      expect(await resolver()('stripe', id)).toEqual({ refs: [], requests: 1 });
    });
  });

  describe('paddle-customer', () => {
    it('GETs /customers/{id} with the API key as Bearer and selects data.email, archived customers included', async () => {
      expect((await resolver()('paddle', 'ctm_01hv6y1jedq4p1n0yqn5ba3ky4')).refs).toEqual([
        { by: 'email', value: 'alan@example.com' },
      ]);
      expect(lastRequest()).toMatchObject({ method: 'GET', path: '/customers/ctm_01hv6y1jedq4p1n0yqn5ba3ky4' });
      expect(lastRequest().headers.authorization).toBe(`Bearer ${vendors.keys.paddle}`);
      expect((await resolver()('paddle', 'ctm_01hrffh7gvp29kc7xahm8wddwa')).refs).toEqual([
        { by: 'email', value: 'sam@example.com' },
      ]);
    });

    it('finds no one for an unknown id (404 not_found)', async () => {
      expect(await resolver()('paddle', 'ctm_01unknown')).toEqual({ refs: [], requests: 1 });
    });
  });

  describe('pipedrive-person', () => {
    it('GETs /api/v2/persons/{id} with x-api-token and selects the primary email, not the first', async () => {
      expect(await resolver()('pipedrive', '101')).toEqual({
        refs: [{ by: 'email', value: 'ada@example.com' }],
        requests: 1,
      });
      expect(lastRequest()).toMatchObject({ method: 'GET', path: '/api/v2/persons/101' });
      expect(lastRequest().headers['x-api-token']).toBe(vendors.keys.pipedrive);
      expect(lastRequest().headers.authorization).toBeUndefined();
    });

    it('finds no one for a person whose only email is blank, or an unknown person', async () => {
      expect((await resolver()('pipedrive', '102')).refs).toEqual([]);
      expect((await resolver()('pipedrive', '999')).refs).toEqual([]);
    });
  });

  describe('hubspot-contact', () => {
    it('GETs /crm/v3/objects/contacts/{id}?properties=email and selects properties.email', async () => {
      expect(await resolver()('contact', '501')).toEqual({
        refs: [{ by: 'email', value: 'katherine@example.com' }],
        requests: 1,
      });
      expect(lastRequest()).toMatchObject({ method: 'GET', path: '/crm/v3/objects/contacts/501?properties=email' });
      expect(lastRequest().headers.authorization).toBe(`Bearer ${vendors.keys.hubspot}`);
    });

    it('finds no one for a contact without email, or an unknown contact', async () => {
      expect((await resolver()('contact', '502')).refs).toEqual([]);
      expect((await resolver()('contact', '404404')).refs).toEqual([]);
    });
  });

  describe('hubspot-deal-contacts', () => {
    it('lists the deal’s contacts, batch-reads their emails and skips the contact without one', async () => {
      const before = vendors.requests.length;
      expect(await resolver()('deal', '9001')).toEqual({
        refs: [{ by: 'email', value: 'katherine@example.com' }],
        requests: 2,
      });
      const [list, batch] = vendors.requests.slice(before);
      expect(list).toMatchObject({ method: 'GET', path: '/crm/v4/objects/deals/9001/associations/contacts?limit=100' });
      expect(batch).toMatchObject({
        method: 'POST',
        path: '/crm/v3/objects/contacts/batch/read',
        body: { inputs: [{ id: '501' }, { id: '502' }], properties: ['email'], propertiesWithHistory: [] },
      });
      expect(batch!.headers).toMatchObject({
        authorization: `Bearer ${vendors.keys.hubspot}`,
        'content-type': expect.stringContaining('application/json'),
      });
    });

    it('finds no one for a deal without contacts (one request) or an unknown deal', async () => {
      expect(await resolver()('deal', '9002')).toEqual({ refs: [], requests: 1 });
      expect(await resolver()('deal', '404404')).toEqual({ refs: [], requests: 1 });
    });

    it('finds every contact with an email, through a contact deleted since (207)', async () => {
      const apis = await startVendorApis({
        records: {
          ...emptyRecords(),
          hubspotContacts: [
            { id: '1', email: 'a@example.com' },
            { id: '2', email: 'b@example.com' },
          ],
          hubspotDeals: [{ id: '7', contactIds: ['1', 'gone', '2'] }],
        },
      });
      try {
        expect((await resolver(apis.url)('deal', '7')).refs).toEqual([
          { by: 'email', value: 'a@example.com' },
          { by: 'email', value: 'b@example.com' },
        ]);
      } finally {
        await apis.close();
      }
    });

    it('refuses a deal with more contacts than one event may change', async () => {
      const contactIds = Array.from({ length: 101 }, (_, index) => String(index + 1));
      const apis = await startVendorApis({ records: { ...emptyRecords(), hubspotDeals: [{ id: '8', contactIds }] } });
      try {
        const error = await rejection(resolver(apis.url)('deal', '8'));
        expect(error).toBeInstanceOf(BadEventError);
        expect(error.code).toBe('lookup_too_many');
        expect(apis.requests.filter((request) => request.method === 'POST')).toEqual([]);
      } finally {
        await apis.close();
      }
    });
  });

  describe('hostile ids stay one path segment', () => {
    const hostile = ['a/b', '../x', '?q=1', '%2F', 'a#b', 'a b', 'ü🙂', '..%2f..', 'x&y=z'];
    const shapes: [string, (id: string) => string][] = [
      ['stripe', (id) => `/v1/customers/${id}`],
      ['paddle', (id) => `/customers/${id}`],
      ['pipedrive', (id) => `/api/v2/persons/${id}`],
      ['contact', (id) => `/crm/v3/objects/contacts/${id}?properties=email`],
      ['deal', (id) => `/crm/v4/objects/deals/${id}/associations/contacts?limit=100`],
    ];
    it.each(shapes)('%s', async (name, path) => {
      const lookup = resolver();
      for (const id of hostile) {
        await lookup(name, id).catch(() => undefined);
        expect(lastRequest().path).toBe(path(encodeURIComponent(id)));
      }
    });
  });

  describe('rejected keys', () => {
    const stripeOnly = (baseUrl: string): Record<string, LookupConfig> => ({
      stripe: { preset: 'stripe-customer', baseUrl, secretId: 'stripe-secret', cacheSeconds: 0 },
    });

    it('re-reads the secret once bypassing the cache, then fails with lookup_unauthorized naming neither secret nor key', async () => {
      const secrets = secretSource('sk_test_revoked_key_value');
      const clock = fakeClock();
      const error = await rejection(
        resolverFor(stripeOnly(vendors.url), secrets, clock).resolve('stripe', 'cus_Qh7GraceHopper', clock.budget()),
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'lookup_unauthorized', requests: 1 });
      expect(error.message).toContain('Lookup "stripe"');
      expect(secrets.reads).toEqual([
        { secretId: 'stripe-secret', forceRefresh: false },
        { secretId: 'stripe-secret', forceRefresh: true },
      ]);
      for (const text of [error.message, error.stack ?? '', JSON.stringify(error)]) {
        expect(text).not.toContain('sk_test_revoked');
        expect(text).not.toContain('stripe-secret');
      }
    });

    it('uses a rotated secret at once', async () => {
      const secrets = secretSource('sk_test_revoked_key_value', vendors.keys.stripe);
      const clock = fakeClock();
      const result = await resolverFor(stripeOnly(vendors.url), secrets, clock).resolve(
        'stripe',
        'cus_Qh7GraceHopper',
        clock.budget(),
      );
      expect(result).toEqual({ refs: [{ by: 'email', value: 'grace@example.com' }], requests: 2 });
    });

    it('fails when the re-read secret is refused too (Paddle answers 403)', async () => {
      const secrets = secretSource('pdl_old', 'pdl_still_wrong');
      const clock = fakeClock();
      const config: Record<string, LookupConfig> = {
        paddle: { preset: 'paddle-customer', baseUrl: vendors.url, secretId: 'p', cacheSeconds: 0 },
      };
      const error = await rejection(
        resolverFor(config, secrets, clock).resolve('paddle', 'ctm_01hv6y1jedq4p1n0yqn5ba3ky4', clock.budget()),
      );
      expect(error).toMatchObject({ code: 'lookup_unauthorized', requests: 2 });
      expect(error.message).not.toMatch(/pdl_/);
    });
  });

  describe('answers that are not the vendor’s', () => {
    const api = useVendorApis();
    const origin = () => api.origin;

    it.each(Object.keys(presetOf))(
      '%s: a 404 without the vendor’s error body fails (a wrong baseUrl is not "not found")',
      async (name) => {
        api.vendors.script('*', { status: 404, body: { message: 'Not Found' } });
        const error = await rejection(resolver(origin())(name, '501'));
        expect(error).toMatchObject({ code: 'lookup_failed' });
        expect(error.message).toContain("check the lookup's baseUrl");
      },
    );

    it.each(Object.keys(presetOf))('%s: a 200 that is not the record asked for fails', async (name) => {
      api.vendors.script('*', { status: 200, body: { hello: 'world' } });
      expect(await rejection(resolver(origin())(name, '501'))).toMatchObject({ code: 'lookup_failed' });
    });

    it('hubspot-deal-contacts follows paging.next.after', async () => {
      const page = (ids: string[], after?: string) => ({
        status: 200,
        body: {
          results: ids.map((toObjectId) => ({ toObjectId, associationTypes: [] })),
          ...(after && { paging: { next: { after } } }),
        },
      });
      api.vendors.script('*', page(['11', '12'], 'cursor/2'), page(['13']), {
        status: 200,
        body: {
          status: 'COMPLETE',
          results: ['11', '12', '13'].map((id) => ({ id, properties: { email: `${id}@example.com` } })),
        },
      });
      const { refs, requests } = await resolver(origin())('deal', '5');
      expect(refs.map((ref) => ref.value)).toEqual(['11@example.com', '12@example.com', '13@example.com']);
      expect(requests).toBe(3);
      expect(api.vendors.requests.map((request) => request.path)).toEqual([
        '/crm/v4/objects/deals/5/associations/contacts?limit=100',
        '/crm/v4/objects/deals/5/associations/contacts?limit=100&after=cursor%2F2',
        '/crm/v3/objects/contacts/batch/read',
      ]);
      expect(api.vendors.requests[2]!.body).toMatchObject({ inputs: [{ id: '11' }, { id: '12' }, { id: '13' }] });
    });

    it('hubspot-deal-contacts accepts numeric toObjectId values as HubSpot has sent them', async () => {
      api.vendors.script(
        '*',
        { status: 200, body: { results: [{ toObjectId: 42, associationTypes: [] }] } },
        { status: 200, body: { status: 'COMPLETE', results: [{ id: '42', properties: { email: 'x@example.com' } }] } },
      );
      expect((await resolver(origin())('deal', '5')).refs).toEqual([{ by: 'email', value: 'x@example.com' }]);
      expect(api.vendors.requests[1]!.body).toMatchObject({ inputs: [{ id: '42' }] });
    });
  });
});

function emptyRecords() {
  return { stripeCustomers: [], paddleCustomers: [], pipedrivePersons: [], hubspotContacts: [], hubspotDeals: [] };
}
