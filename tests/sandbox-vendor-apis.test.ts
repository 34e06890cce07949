/**
 * The vendor stand-ins answer as the vendors document: the shapes of tests/fixtures/vendors, the
 * vendors' own error bodies and statuses, and their auth checks.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVendorApis, type VendorApis } from '../local/sandbox/vendor-apis';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/vendors/${name}`, import.meta.url), 'utf8'));

/** The JSON's structure: keys and value types, recursively (an array by its first element). */
function shapeOf(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? [] : [shapeOf(value[0])];
  if (typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shapeOf(item)]));
  return typeof value;
}

describe('vendor API stand-ins', () => {
  let vendors: VendorApis;
  const call = async (path: string, headers: Record<string, string> = {}, body?: unknown) => {
    const response = await fetch(`${vendors.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
  };
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  beforeAll(async () => {
    vendors = await startVendorApis();
  });
  afterAll(async () => {
    await vendors.close();
  });

  describe('Stripe', () => {
    it('answers a customer in the shape of the reference example', async () => {
      const { status, body } = await call('/v1/customers/cus_NffrFeUfNV2Hib', bearer(vendors.keys.stripe));
      expect(status).toBe(200);
      expect(body).toEqual(fixture('stripe-customer.json'));
    });

    it('answers a deleted customer with {id, object, deleted}', async () => {
      const { status, body } = await call('/v1/customers/cus_DeletedCustomr', bearer(vendors.keys.stripe));
      expect(status).toBe(200);
      expect(shapeOf(body)).toEqual(shapeOf(fixture('stripe-customer-deleted.json')));
      expect(body).toEqual({ id: 'cus_DeletedCustomr', object: 'customer', deleted: true });
    });

    it('answers an unknown id with resource_missing', async () => {
      const { status, body } = await call('/v1/customers/cus_NffrFeUfNV2Hib_x', bearer(vendors.keys.stripe));
      expect(status).toBe(404);
      expect(shapeOf(body)).toEqual(shapeOf(fixture('stripe-error-resource-missing.json')));
      expect(body.error).toMatchObject({
        code: 'resource_missing',
        type: 'invalid_request_error',
        message: "No such customer: 'cus_NffrFeUfNV2Hib_x'",
      });
    });

    it('refuses a missing or wrong key with 401, and takes the key as the Basic username', async () => {
      const missing = await call('/v1/customers/cus_NffrFeUfNV2Hib');
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Basic realm="Stripe"');
      expect(missing.body.error.message).toMatch(/^You did not provide an API key/);
      const wrong = await call('/v1/customers/cus_NffrFeUfNV2Hib', bearer('sk_test_wrongwrongwrong1234'));
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toEqual({
        message: 'Invalid API Key provided: sk_test_***************1234',
        type: 'invalid_request_error',
      });
      const basic = { authorization: `Basic ${Buffer.from(`${vendors.keys.stripe}:`).toString('base64')}` };
      expect((await call('/v1/customers/cus_NffrFeUfNV2Hib', basic)).status).toBe(200);
    });
  });

  describe('Paddle', () => {
    it('answers a customer in data, with meta.request_id', async () => {
      const { status, body } = await call('/customers/ctm_01hrffh7gvp29kc7xahm8wddwa', bearer(vendors.keys.paddle));
      expect(status).toBe(200);
      expect(shapeOf(body)).toEqual(shapeOf(fixture('paddle-customer.json')));
      expect(body.data).toMatchObject({
        id: 'ctm_01hrffh7gvp29kc7xahm8wddwa',
        email: 'sam@example.com',
        status: 'archived',
      });
    });

    it.each([
      ['an unknown id', '/customers/ctm_unknown', true, 404, 'paddle-error-not-found.json'],
      ['a wrong key', '/customers/ctm_01hrffh7gvp29kc7xahm8wddwa', false, 403, 'paddle-error-invalid-token.json'],
    ])('answers %s with its documented error', async (_case, path, rightKey, status, file) => {
      const reply = await call(path, bearer(rightKey ? vendors.keys.paddle : 'pdl_wrong'));
      const documented = fixture(file) as { error: Record<string, unknown> };
      expect(reply.status).toBe(status);
      expect(shapeOf(reply.body)).toEqual(shapeOf(documented));
      expect(reply.body.error).toMatchObject({ type: documented.error.type, code: documented.error.code });
    });

    it('answers a request without Authorization with 403 authentication_missing, verbatim but for the request id', async () => {
      const { status, body } = await call('/customers/ctm_01hrffh7gvp29kc7xahm8wddwa');
      expect(status).toBe(403);
      const documented = fixture('paddle-error-authentication-missing.json') as { error: unknown };
      expect(body.error).toEqual(documented.error);
    });
  });

  describe('Pipedrive', () => {
    it('answers a v2 person with several emails, one primary', async () => {
      const { status, body } = await call('/api/v2/persons/101', { 'x-api-token': vendors.keys.pipedrive });
      expect(status).toBe(200);
      expect(body).toEqual(fixture('pipedrive-person.json'));
    });

    it('answers an unknown person with the documented error schema, and a bad token with 401', async () => {
      const missing = await call('/api/v2/persons/999', { 'x-api-token': vendors.keys.pipedrive });
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual(fixture('pipedrive-error.json'));
      const refused = await call('/api/v2/persons/101', { 'x-api-token': 'nope' });
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ success: false, error: 'unauthorized access' });
    });

    it('takes the token as the api_token query parameter too', async () => {
      expect((await call(`/api/v2/persons/101?api_token=${vendors.keys.pipedrive}`)).status).toBe(200);
    });
  });

  describe('HubSpot', () => {
    const auth = () => bearer(vendors.keys.hubspot);

    it('answers a contact with the requested properties', async () => {
      const { status, body } = await call('/crm/v3/objects/contacts/501?properties=email', auth());
      expect(status).toBe(200);
      expect(shapeOf(body)).toEqual(shapeOf(fixture('hubspot-contact.json')));
      expect(body.properties.email).toBe('katherine@example.com');
    });

    it('answers a deal’s contact associations, paged by an opaque cursor', async () => {
      const first = await call('/crm/v4/objects/deals/9001/associations/contacts?limit=1', auth());
      expect(first.status).toBe(200);
      expect(shapeOf(first.body)).toEqual(shapeOf(fixture('hubspot-associations.json')));
      expect(first.body.results.map((result: { toObjectId: string }) => result.toObjectId)).toEqual(['501']);
      const second = await call(
        `/crm/v4/objects/deals/9001/associations/contacts?limit=1&after=${first.body.paging.next.after}`,
        auth(),
      );
      expect(second.body).toEqual({
        results: [{ toObjectId: '502', associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 3, label: null }] }],
      });
    });

    it('batch-reads contacts, a contact without email has email null, unknown ids answer 207 with errors', async () => {
      const body = { inputs: [{ id: '501' }, { id: '502' }], properties: ['email'], propertiesWithHistory: [] };
      const complete = await call('/crm/v3/objects/contacts/batch/read', auth(), body);
      expect(complete.status).toBe(200);
      expect(shapeOf(complete.body)).toEqual(shapeOf(fixture('hubspot-batch-read.json')));
      expect(
        complete.body.results.map((contact: { properties: { email: unknown } }) => contact.properties.email),
      ).toEqual(['katherine@example.com', null]);
      const partial = await call('/crm/v3/objects/contacts/batch/read', auth(), {
        ...body,
        inputs: [{ id: '501' }, { id: '404404' }],
      });
      expect(partial.status).toBe(207);
      expect(partial.body).toMatchObject({
        numErrors: 1,
        errors: [{ category: 'OBJECT_NOT_FOUND', context: { ids: ['404404'] } }],
      });
    });

    it('answers unknown objects with OBJECT_NOT_FOUND and a bad token with 401 INVALID_AUTHENTICATION', async () => {
      const missing = await call('/crm/v3/objects/contacts/404404?properties=email', auth());
      expect(missing.status).toBe(404);
      expect(shapeOf(missing.body)).toEqual(shapeOf(fixture('hubspot-error-not-found.json')));
      expect(missing.body.category).toBe('OBJECT_NOT_FOUND');
      const refused = await call('/crm/v3/objects/contacts/501', bearer('pat-wrong'));
      expect(refused.status).toBe(401);
      const documented = fixture('hubspot-error-unauthorized.json') as Record<string, unknown>;
      expect(refused.body).toEqual({ ...documented, correlationId: expect.any(String) });
    });
  });

  it('records requests with their headers, and a rotated key replaces the old one', async () => {
    const apis = await startVendorApis();
    try {
      apis.setKey('stripe', 'sk_test_rotated');
      expect(
        (
          await fetch(`${apis.url}/v1/customers/cus_NffrFeUfNV2Hib`, {
            headers: { authorization: 'Bearer sk_test_rotated' },
          })
        ).status,
      ).toBe(200);
      expect(apis.requests).toEqual([
        expect.objectContaining({
          method: 'GET',
          path: '/v1/customers/cus_NffrFeUfNV2Hib',
          headers: expect.objectContaining({ authorization: 'Bearer sk_test_rotated' }),
        }),
      ]);
    } finally {
      await apis.close();
    }
  });
});

describe('vendor API stand-ins, scripted', () => {
  let vendors: VendorApis;
  const get = (path: string) =>
    fetch(`${vendors.url}${path}`, { headers: { authorization: `Bearer ${vendors.keys.stripe}` } });

  beforeAll(async () => {
    vendors = await startVendorApis();
  });
  afterAll(async () => {
    await vendors.close();
  });

  it("answers a vendor's paths as scripted first, then as that vendor; other vendors are untouched", async () => {
    vendors.script('stripe', {
      status: 429,
      body: { error: { type: 'rate_limit_error' } },
      headers: { 'retry-after': '2' },
    });

    expect((await get('/crm/v3/objects/contacts/1')).status).toBe(401);
    const limited = await get('/v1/customers/cus_NffrFeUfNV2Hib');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect((await get('/v1/customers/cus_NffrFeUfNV2Hib')).status).toBe(200);
  });

  it("answers a path no vendor serves (a generic lookup's API) only as scripted with '*'", async () => {
    expect((await get('/users/7')).status).toBe(404);
    vendors.script('*', { status: 200, body: { email: 'ann@example.com' }, times: 2 });

    expect(await (await get('/users/7')).json()).toEqual({ email: 'ann@example.com' });
    expect(await (await get('/users/8?fields=email')).json()).toEqual({ email: 'ann@example.com' });
    expect(vendors.requests.slice(-2).map((request) => request.path)).toEqual(['/users/7', '/users/8?fields=email']);
  });

  it('holds a stalled request until release(); reset() forgets the script, the log and rotated keys', async () => {
    vendors.script('*', { stall: true });
    const pending = get('/v1/customers/cus_NffrFeUfNV2Hib');
    await expect.poll(() => vendors.stalled()).toBe(1);
    vendors.release();
    expect((await pending).status).toBe(200);

    vendors.script('*', { drop: true });
    vendors.setKey('stripe', 'sk_test_rotated');
    vendors.reset();
    expect(vendors.requests).toEqual([]);
    expect((await get('/v1/customers/cus_NffrFeUfNV2Hib')).status).toBe(200);
  });

  it('refuses a named error: the vendors’ own errors are sent as status and body', () => {
    expect(() => vendors.script('*', { error: 'rate_limit' } as never)).toThrow(/error must be one of/);
  });
});
