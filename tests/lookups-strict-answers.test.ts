/**
 * Lookup answers read strictly (issue #20): an empty body, a 204 or a body that is not the
 * documented shape is lookup_failed (retried only where the status is), never "not found"; presets
 * read each field with the type the vendor documents, so a list where a string belongs fails
 * instead of naming several customers. "Not found" stays for the vendors' documented not-found
 * answers and for well-formed records that name no one. Over real HTTP: the vendor stand-ins for
 * the documented answers, a raw loopback server for everything a vendor does not document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, RetryableError } from '../lib/errors';
import { createHelpCrunchClient } from '../lib/helpcrunch/client';
import { RetryBudget } from '../lib/http/retry';
import { createLookupResolver } from '../lib/lookups/resolver';
import { executeUnits } from '../lib/pipeline';
import { LOOKUP_PRESETS } from '../lib/rules/shape';
import type { LookupConfig, LookupPreset } from '../lib/rules/types';
import { startVendorApis, type VendorApis } from '../local/sandbox/vendor-apis';
import { hubSpotContactObject } from '../local/sandbox/vendor-apis/hubspot';
import { paddleCustomerObject } from '../local/sandbox/vendor-apis/paddle';
import { pipedrivePersonObject } from '../local/sandbox/vendor-apis/pipedrive';
import { stripeCustomerObject } from '../local/sandbox/vendor-apis/stripe';
import { fakeClock, rejection, resolverFor, secretSource } from './support/lookups';
import { jsonReply as json, useRawServer, type RawReply } from './support/raw-server';
import { pipelineWith, unitsFor } from './support/pipeline';

const generic = (origin: string): LookupConfig => ({
  url: `${origin}/users/{id}`,
  auth: { in: 'bearer' },
  secretId: 'crm-key',
  select: { by: 'email', expression: 'email' },
  cacheSeconds: 0,
});

const preset = (name: LookupPreset, baseUrl: string): LookupConfig => ({
  preset: name,
  baseUrl,
  secretId: 'vendor-key',
  cacheSeconds: 0,
});

/** Resolves `id` through one lookup named "crm" configured as `config`. */
function resolveWith(config: LookupConfig, id = '7') {
  const clock = fakeClock();
  const resolver = resolverFor({ crm: config }, secretSource('k'), clock);
  return { clock, result: resolver.resolve('crm', id, clock.budget()) };
}

describe('lookup answers without a record', () => {
  const raw = useRawServer();

  it.each<[string, RawReply]>([
    ['a 200 with an empty body', { status: 200, body: '' }],
    ['a 200 whose body is only whitespace', { status: 200, body: ' \r\n ' }],
    ['a 204', { status: 204 }],
  ])('%s fails with lookup_failed at once, never "not found"', async (_case, reply) => {
    raw.replies = [reply];
    const error = await rejection(resolveWith(generic(raw.origin)).result);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'lookup_failed', requests: 1 });
    expect(error.message).toBe(
      `Lookup "crm": ${new URL(raw.origin).host} answered ${reply.status} without a body, which is no record`,
    );
    expect(raw.requests.map((request) => request.path)).toEqual(['/users/7']);
  });

  it('a 503 with an empty body is still retried as its status says, then lookup_unavailable', async () => {
    raw.replies = [{ status: 503 }];
    const { clock, result } = resolveWith(generic(raw.origin));
    const error = await rejection(result);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'lookup_unavailable', requests: 5 });
    expect(clock.slept).toHaveLength(4);
  });

  it('a 503 then a 200 without a body: the retry reaches the empty answer, which fails', async () => {
    raw.replies = [{ status: 503 }, { status: 200, body: '' }];
    expect(await rejection(resolveWith(generic(raw.origin)).result)).toMatchObject({
      code: 'lookup_failed',
      requests: 2,
    });
  });

  it('an empty selection from a real record is still "not found", and so is a 404', async () => {
    raw.replies = [json(200, { id: 7, name: 'Ann' }), { status: 404 }];
    expect(await resolveWith(generic(raw.origin)).result).toEqual({ refs: [], requests: 1 });
    expect(await resolveWith(generic(raw.origin)).result).toEqual({ refs: [], requests: 1 });
  });

  it.each(LOOKUP_PRESETS)('%s: a 200 without a body and a 204 fail with lookup_failed', async (name) => {
    for (const reply of [{ status: 200, body: '' }, { status: 204 }]) {
      raw.replies = [reply];
      expect(await rejection(resolveWith(preset(name, raw.origin), '101').result)).toMatchObject({
        code: 'lookup_failed',
        requests: 1,
      });
    }
  });

  it.each(LOOKUP_PRESETS)('%s: a 404 without a body is not the vendor’s not-found answer', async (name) => {
    raw.replies = [{ status: 404 }];
    const error = await rejection(resolveWith(preset(name, raw.origin), '101').result);
    expect(error).toMatchObject({ code: 'lookup_failed' });
    expect(error.message).toContain('without');
  });

  it('in a pipeline run the job fails with lookup_failed, it is not skipped as lookup_not_found', async () => {
    raw.replies = [{ status: 200, body: '' }];
    // HelpCrunch is never reached: its URL would answer from the same raw server, which records every path.
    const helpcrunch = createHelpCrunchClient({
      baseUrl: `${raw.origin}/v1`,
      apiKey: { get: async () => 'hc-key' },
    });
    const lookups = createLookupResolver({
      lookups: { crm: generic(raw.origin) },
      secrets: secretSource('k'),
    });
    const job = {
      rule: 'churn',
      customer: { by: 'lookup', lookup: 'crm', value: '7' } as const,
      removeTags: ['Subscriber'],
      addTags: [],
    };
    const result = await executeUnits(
      unitsFor([job]),
      await pipelineWith(helpcrunch, { lookups }),
      RetryBudget.until(Date.now() + 10_000),
    );
    expect(result.outcomes).toEqual([
      expect.objectContaining({
        rule: 'churn',
        status: 'failed',
        reason: 'lookup_failed',
        customerId: null,
        requests: 1,
      }),
    ]);
    expect(result).toMatchObject({ failure: { code: 'lookup_failed' }, failedLookup: 'crm' });
    expect(raw.requests.map((request) => request.path)).toEqual(['/users/7']);
  });
});

describe('presets read each field with its documented type', () => {
  const raw = useRawServer();
  const stripe = stripeCustomerObject({ id: 'cus_1', email: 'a@example.com', name: 'Ann' });
  const paddle = { data: paddleCustomerObject({ id: 'ctm_1', email: 'a@example.com', name: 'Ann', status: 'active' }) };
  const person = (change: Record<string, unknown>) => ({
    success: true,
    data: {
      ...pipedrivePersonObject({
        id: 101,
        name: 'Ann Lee',
        emails: [{ value: 'a@example.com', primary: true, label: 'work' }],
      }),
      ...change,
    },
  });
  const contact = (email: unknown) => ({
    ...hubSpotContactObject({ id: '501', email: null }, []),
    properties: { email },
  });

  it.each<[string, LookupPreset, unknown, string]>([
    [
      'Stripe: a list of emails',
      'stripe-customer',
      { ...stripe, email: ['a@example.com', 'b@example.com'] },
      '`email` is a string or null',
    ],
    ['Stripe: an email that is a number', 'stripe-customer', { ...stripe, email: 42 }, '`email` is a string or null'],
    ['Stripe: a customer without its email field', 'stripe-customer', { id: 'cus_1', object: 'customer' }, '`email`'],
    [
      'Stripe: `deleted` that is not true',
      'stripe-customer',
      { ...stripe, deleted: 'yes' },
      'a Stripe customer object',
    ],
    ['Stripe: another object', 'stripe-customer', { ...stripe, object: 'invoice' }, 'a Stripe customer object'],
    [
      'Paddle: a list of emails',
      'paddle-customer',
      { data: { ...paddle.data, email: ['a@example.com', 'b@example.com'] } },
      '`email` is a string',
    ],
    ['Paddle: a null email', 'paddle-customer', { data: { ...paddle.data, email: null } }, '`email` is a string'],
    ['Pipedrive: emails that are a string', 'pipedrive-person', person({ emails: 'a@example.com' }), '`emails`'],
    ['Pipedrive: emails that are null', 'pipedrive-person', person({ emails: null }), '`emails`'],
    [
      'Pipedrive: an email whose value is a list',
      'pipedrive-person',
      person({ emails: [{ value: ['a@example.com', 'b@example.com'], primary: true }] }),
      '`emails`',
    ],
    [
      'Pipedrive: `primary` that is a string',
      'pipedrive-person',
      person({ emails: [{ value: 'a@example.com', primary: 'true' }] }),
      '`emails`',
    ],
    ['Pipedrive: `success` missing', 'pipedrive-person', { data: person({}).data }, 'a Pipedrive person'],
    [
      'HubSpot contact: a list of emails',
      'hubspot-contact',
      contact(['a@example.com', 'b@example.com']),
      '`email` is a string or null',
    ],
    [
      'HubSpot contact: no `id`',
      'hubspot-contact',
      { properties: { email: 'a@example.com' } },
      '`id` and `properties`',
    ],
  ])('%s fails with lookup_failed and changes no one', async (_case, name, body, what) => {
    raw.replies = [json(200, body)];
    const error = await rejection(resolveWith(preset(name, raw.origin), '101').result);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'lookup_failed', requests: 1 });
    expect(error.message).toContain(`Lookup "crm": ${new URL(raw.origin).host} answered without`);
    expect(error.message).toContain(what);
  });

  it.each<[string, RawReply[]]>([
    ['an association without toObjectId', [json(200, { results: [{ associationTypes: [] }] })]],
    ['a toObjectId that is an object', [json(200, { results: [{ toObjectId: { id: '1' }, associationTypes: [] }] })]],
    ['paging.next.after that is a number', [json(200, { results: [], paging: { next: { after: 100 } } })]],
    [
      'a batch contact whose email is a list',
      [
        json(200, { results: [{ toObjectId: '501', associationTypes: [] }] }),
        json(200, { status: 'COMPLETE', results: [contact(['a@example.com', 'b@example.com'])] }),
      ],
    ],
    [
      'a batch answer without `results`',
      [json(200, { results: [{ toObjectId: '501', associationTypes: [] }] }), json(200, { status: 'COMPLETE' })],
    ],
  ])('HubSpot deal contacts: %s fails with lookup_failed', async (_case, replies) => {
    const requests = replies.length;
    raw.replies = [...replies];
    expect(await rejection(resolveWith(preset('hubspot-deal-contacts', raw.origin), '9001').result)).toMatchObject({
      code: 'lookup_failed',
      requests,
    });
  });

  it.each<[string, LookupPreset, unknown]>([
    ['Pipedrive: a person without `emails`', 'pipedrive-person', { success: true, data: { id: 101, name: 'Ann' } }],
    ['Pipedrive: a person with an empty `emails` list', 'pipedrive-person', person({ emails: [] })],
    ['HubSpot contact: the email property left out', 'hubspot-contact', { id: '501', properties: {} }],
  ])('%s is well formed and names no one: "not found"', async (_case, name, body) => {
    raw.replies = [json(200, body)];
    expect(await resolveWith(preset(name, raw.origin), '101').result).toEqual({ refs: [], requests: 1 });
  });
});

describe('the documented not-found answers, from the stand-ins', () => {
  let vendors: VendorApis;
  beforeAll(async () => {
    vendors = await startVendorApis();
  });
  afterAll(() => vendors.close());

  const resolve = (name: LookupPreset, vendor: keyof VendorApis['keys'], id: string) => {
    const clock = fakeClock();
    const resolver = resolverFor({ crm: preset(name, vendors.url) }, secretSource(vendors.keys[vendor]), clock);
    return resolver.resolve('crm', id, clock.budget());
  };

  it.each<[string, LookupPreset, keyof VendorApis['keys'], string]>([
    ['Stripe 404 resource_missing', 'stripe-customer', 'stripe', 'cus_Unknown'],
    ['Stripe deleted: true', 'stripe-customer', 'stripe', 'cus_DeletedCustomr'],
    ['Stripe email null', 'stripe-customer', 'stripe', 'cus_NoEmailCustomer'],
    ['Paddle 404 not_found', 'paddle-customer', 'paddle', 'ctm_01unknown'],
    ['Pipedrive 404 Person not found', 'pipedrive-person', 'pipedrive', '999'],
    ['Pipedrive person whose only email is blank', 'pipedrive-person', 'pipedrive', '102'],
    ['HubSpot 404 OBJECT_NOT_FOUND', 'hubspot-contact', 'hubspot', '404404'],
    ['HubSpot contact with email null', 'hubspot-contact', 'hubspot', '502'],
    ['HubSpot deal without contacts', 'hubspot-deal-contacts', 'hubspot', '9002'],
  ])('%s', async (_case, name, vendor, id) => {
    expect(await resolve(name, vendor, id)).toEqual({ refs: [], requests: 1 });
  });

  it('a HubSpot deal whose batch read answers 207 for a contact deleted since still finds the others', async () => {
    const apis = await startVendorApis({
      records: {
        stripeCustomers: [],
        paddleCustomers: [],
        pipedrivePersons: [],
        hubspotContacts: [{ id: '1', email: 'a@example.com' }],
        hubspotDeals: [{ id: '7', contactIds: ['1', 'gone'] }],
      },
    });
    try {
      const clock = fakeClock();
      const config = { crm: preset('hubspot-deal-contacts', apis.url) };
      const resolver = resolverFor(config, secretSource(apis.keys.hubspot), clock);
      expect(await resolver.resolve('crm', '7', clock.budget())).toEqual({
        refs: [{ by: 'email', value: 'a@example.com' }],
        requests: 2,
      });
    } finally {
      await apis.close();
    }
  });
});
