/**
 * The pipeline against real HTTP: the sandbox for the contract, the vendor stand-ins for lookups,
 * the sandbox's scripted answers where HelpCrunch must misbehave.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHelpCrunchClient, type HelpCrunchClient } from '../lib/helpcrunch/client';
import { createLookupResolver } from '../lib/lookups/resolver';
import { executeUnits, type PipelineDeps } from '../lib/pipeline';
import { RetryBudget } from '../lib/http/retry';
import type { LookupConfig } from '../lib/rules/types';
import type { Job } from '../lib/types';
import {
  startHelpCrunchSandbox,
  type HelpCrunchSandbox,
  type SandboxCustomer,
} from '../local/sandbox/helpcrunch-sandbox';
import { startVendorApis, type VendorApis } from '../local/sandbox/vendor-apis';
import { pipelineWith, unitsFor } from './support/pipeline';

const KEY = 'pipeline-key';
let sandbox: HelpCrunchSandbox;
let client: HelpCrunchClient;

const budget = () => RetryBudget.until(Date.now() + 10_000);
const clientFor = (baseUrl: string) =>
  createHelpCrunchClient({ baseUrl, apiKey: { get: async () => KEY }, timeoutMs: 1000 });
const calls = () => sandbox.requests.map((r) => `${r.method} ${r.path}`);
const tagsOf = (id: number) => sandbox.customer(id)?.tags.map((tag) => tag.name);
const job = (rule: string, customer: Job['customer'], removeTags: string[], addTags: string[] = []): Job => ({
  rule,
  customer,
  removeTags,
  addTags,
});

/** The jobs as one event's units, through the pipeline. */
const runJobs = async (jobs: Job[], deps: Promise<PipelineDeps>, within: RetryBudget) =>
  executeUnits(unitsFor(jobs), await deps, within);

beforeAll(async () => {
  sandbox = await startHelpCrunchSandbox({ apiKey: KEY });
  client = clientFor(sandbox.url);
});
afterAll(() => sandbox.close());
beforeEach(() => sandbox.reset());

describe('the pipeline', () => {
  it('applies each customer reference of an event as its own unit, later ones seeing what earlier ones changed', async () => {
    const jobs: Job[] = [
      job('by-email', { by: 'email', value: 'katherine@example.com' }, ['Lead']),
      job('by-user-id', { by: 'userId', value: 'u-katherine' }, ['VIP']),
      job('by-id', { by: 'helpcrunchId', value: 1004 }, ['Subscriber', 'Lead']),
    ];

    const { outcomes, failure, requests } = await runJobs(jobs, pipelineWith(client), budget());

    expect(failure).toBeUndefined();
    expect(outcomes.map((o) => [o.rule, o.customerId, o.status, o.removed, o.added])).toEqual([
      ['by-email', 1004, 'untagged', ['Lead'], []],
      ['by-user-id', 1004, 'untagged', ['VIP'], []],
      // Lead is gone already: the search before the first unit said so, and the first unit removed it.
      ['by-id', 1004, 'untagged', ['Subscriber'], []],
    ]);
    expect(calls()).toEqual([
      'POST /v1/customers/search',
      'POST /v1/customers/search',
      'DELETE /v1/customers/1004/tags',
      'DELETE /v1/customers/1004/tags',
      'DELETE /v1/customers/1004/tags',
    ]);
    expect(tagsOf(1004)).toEqual([]);
    // Each request once, however many outcomes share it.
    expect(requests).toEqual({ helpcrunch: 5, lookups: 0 });
  });

  it('searches once for a reference that several rules share', async () => {
    const ref = { by: 'email', value: 'ada@example.com' } as const;
    const { outcomes } = await runJobs(
      [job('one', ref, ['Lead']), job('two', ref, ['Trial user'])],
      pipelineWith(client),
      budget(),
    );

    expect(calls()).toEqual(['POST /v1/customers/search', 'DELETE /v1/customers/1001/tags']);
    expect(outcomes.map((o) => o.requests)).toEqual([2, 2]);
  });

  it('reports tags_absent per rule and deletes only the tags the customer carries', async () => {
    const ref = { by: 'email', value: 'alan@example.com' } as const; // carries only "Trial user"
    const { outcomes } = await runJobs(
      [job('lead', ref, ['Lead']), job('trial', ref, ['Trial user', 'VIP'])],
      pipelineWith(client),
      budget(),
    );

    expect(outcomes.map((o) => [o.rule, o.status, o.removed, o.reason])).toEqual([
      ['lead', 'skipped', [], 'tags_absent'],
      ['trial', 'untagged', ['Trial user'], undefined],
    ]);
    expect(sandbox.requests.at(-1)?.tags).toEqual(['Trial user']);
    expect(tagsOf(1003)).toEqual([]);
  });

  it('treats tag names as case-sensitive', async () => {
    const { outcomes } = await runJobs(
      [job('lower', { by: 'email', value: 'ada@example.com' }, ['lead'])],
      pipelineWith(client),
      budget(),
    );

    expect(outcomes[0]).toMatchObject({ status: 'skipped', reason: 'tags_absent' });
    expect(calls()).toEqual(['POST /v1/customers/search']);
  });

  it('untags every customer a search returns', async () => {
    const twins = [
      { id: 1, email: 'twin@example.com', userId: null, name: null, tags: [{ name: 'Lead', color: '#000' }] },
      { id: 2, email: 'twin@example.com', userId: null, name: null, tags: [{ name: 'Lead', color: '#000' }] },
    ];
    sandbox.reset(twins);
    const { outcomes } = await runJobs(
      [job('r', { by: 'email', value: 'twin@example.com' }, ['Lead'])],
      pipelineWith(client),
      budget(),
    );

    expect(outcomes.map((o) => [o.customerId, o.status])).toEqual([
      [1, 'untagged'],
      [2, 'untagged'],
    ]);
    expect(sandbox.customers().flatMap((c) => c.tags)).toEqual([]);
  });
});

describe('the pipeline adding tags', () => {
  it('sends one DELETE with every removal, then one PUT with every addition, per customer', async () => {
    const grace = { by: 'email', value: 'grace@example.com' } as const; // Subscriber, VIP
    const jobs = [
      job('churn', grace, ['Subscriber'], ['Churned']),
      job('flag', grace, [], ['Win-back', 'Churned']),
      job('vip', grace, ['VIP']),
    ];

    const { outcomes, failure } = await runJobs(jobs, pipelineWith(client), budget());

    expect(failure).toBeUndefined();
    expect(calls()).toEqual([
      'POST /v1/customers/search',
      'DELETE /v1/customers/1002/tags',
      'PUT /v1/customers/1002/tags',
    ]);
    expect(sandbox.requests.map((request) => request.tags)).toEqual([
      undefined,
      ['Subscriber', 'VIP'],
      ['Churned', 'Win-back'],
    ]);
    expect(outcomes.map((o) => [o.rule, o.status, o.removed, o.added])).toEqual([
      ['churn', 'untagged', ['Subscriber'], ['Churned']],
      ['flag', 'tagged', [], ['Win-back', 'Churned']],
      ['vip', 'untagged', ['VIP'], []],
    ]);
    expect(tagsOf(1002)).toEqual(['Churned', 'Win-back']);
    expect(outcomes.map((o) => o.requests)).toEqual([3, 3, 3]);
  });

  it('skips the PUT when the customer already carries every tag to add (tags_present), and says so per rule', async () => {
    const ada = { by: 'email', value: 'ada@example.com' } as const; // Lead, Trial user
    const { outcomes } = await runJobs(
      [
        job('lead', ada, [], ['Lead']),
        job('both', ada, ['VIP'], ['Trial user']),
        job('mixed', ada, [], ['Lead', 'Hot']),
      ],
      pipelineWith(client),
      budget(),
    );

    expect(calls()).toEqual(['POST /v1/customers/search', 'PUT /v1/customers/1001/tags']);
    expect(sandbox.requests.at(-1)?.tags).toEqual(['Hot']);
    expect(outcomes.map((o) => [o.rule, o.status, o.added, o.reason])).toEqual([
      ['lead', 'skipped', [], 'tags_present'],
      ['both', 'skipped', [], 'tags_unchanged'],
      ['mixed', 'tagged', ['Hot'], undefined],
    ]);
  });

  it('leaves a tag alone that one rule removes and another adds (conflicting_rules), and changes the rest', async () => {
    const katherine = { by: 'helpcrunchId', value: 1004 } as const; // Lead, Subscriber, VIP
    const { outcomes } = await runJobs(
      [
        job('lost', katherine, ['Lead', 'Subscriber']),
        job('revived', katherine, [], ['Lead']),
        job('vip', katherine, ['VIP']),
      ],
      pipelineWith(client),
      budget(),
    );

    expect(calls()).toEqual(['DELETE /v1/customers/1004/tags']);
    expect(sandbox.requests[0]?.tags).toEqual(['Subscriber', 'VIP']);
    expect(outcomes.map((o) => [o.rule, o.status, o.removed, o.added, o.reason])).toEqual([
      ['lost', 'untagged', ['Subscriber'], [], 'conflicting_rules'],
      ['revived', 'skipped', [], [], 'conflicting_rules'],
      ['vip', 'untagged', ['VIP'], [], undefined],
    ]);
    expect(tagsOf(1004)).toEqual(['Lead']);
  });

  it('sends both calls for a customer named by id, whose tags it does not know', async () => {
    const { outcomes } = await runJobs(
      [job('r', { by: 'helpcrunchId', value: 1005 }, ['Lead'], ['Churned'])],
      pipelineWith(client),
      budget(),
    );

    expect(calls()).toEqual(['DELETE /v1/customers/1005/tags', 'PUT /v1/customers/1005/tags']);
    expect(outcomes[0]).toMatchObject({ status: 'untagged', removed: ['Lead'], added: ['Churned'], requests: 2 });
  });

  it('skips every job of a customer HelpCrunch does not know, without a PUT', async () => {
    const { outcomes } = await runJobs(
      [job('r', { by: 'helpcrunchId', value: 4242 }, ['Lead'], ['Churned'])],
      pipelineWith(client),
      budget(),
    );

    expect(calls()).toEqual(['DELETE /v1/customers/4242/tags']);
    expect(outcomes).toEqual([
      expect.objectContaining({
        customerId: 4242,
        status: 'skipped',
        reason: 'customer_not_found',
        removed: [],
        added: [],
      }),
    ]);
  });
});

describe('the pipeline in a dry run', () => {
  it('resolves and searches as usual, sends no DELETE or PUT, and says what would change', async () => {
    const grace = { by: 'email', value: 'grace@example.com' } as const;
    const { outcomes, failure, requests } = await runJobs(
      [
        job('churn', grace, ['Subscriber'], ['Churned']),
        job('flag', grace, [], ['Win-back']),
        job('gone', grace, ['Lead']),
      ],
      pipelineWith(client, { dryRun: true }),
      budget(),
    );

    expect(failure).toBeUndefined();
    expect(calls()).toEqual(['POST /v1/customers/search']);
    expect(tagsOf(1002)).toEqual(['Subscriber', 'VIP']);
    expect(outcomes.map((o) => [o.rule, o.status, o.removed, o.added, o.reason])).toEqual([
      ['churn', 'would_untag', ['Subscriber'], ['Churned'], undefined],
      ['flag', 'would_tag', [], ['Win-back'], undefined],
      ['gone', 'skipped', [], [], 'tags_absent'],
    ]);
    expect(requests).toEqual({ helpcrunch: 1, lookups: 0 });
  });
});

describe('the pipeline with lookups', () => {
  let vendors: VendorApis;
  const lookups: Record<string, LookupConfig> = {
    stripe: { preset: 'stripe-customer', secretId: 'stripe-key', cacheSeconds: 0 },
    deal: { preset: 'hubspot-deal-contacts', secretId: 'hubspot-key', cacheSeconds: 0 },
  };
  const resolver = () => {
    const keys: Record<string, string> = { 'stripe-key': vendors.keys.stripe, 'hubspot-key': vendors.keys.hubspot };
    const origins = Object.fromEntries(
      Object.entries(lookups).map(([name, config]) => [name, { ...config, baseUrl: vendors.url }]),
    );
    return createLookupResolver({
      lookups: origins,
      secrets: { get: async (secretId) => keys[secretId]! },
      retryPolicy: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    });
  };
  const stripe = (value: string) => ({ by: 'lookup', lookup: 'stripe', value }) as const;

  beforeAll(async () => {
    vendors = await startVendorApis();
  });
  afterAll(() => vendors.close());
  beforeEach(() => {
    vendors.setKey('stripe', 'sk_test_sandboxStripeKey0000');
  });

  it('resolves each distinct lookup reference once, then changes the customer it names', async () => {
    const before = vendors.requests.length;
    const { outcomes, failure, requests } = await runJobs(
      [
        job('churn', stripe('cus_Qh7GraceHopper'), ['Subscriber'], ['Churned']),
        job('vip', stripe('cus_Qh7GraceHopper'), ['VIP']),
      ],
      pipelineWith(client, { lookups: resolver() }),
      budget(),
    );

    expect(failure).toBeUndefined();
    expect(vendors.requests.slice(before).map((request) => request.path)).toEqual(['/v1/customers/cus_Qh7GraceHopper']);
    expect(outcomes.map((o) => [o.rule, o.customerId, o.status, o.removed, o.added, o.requests])).toEqual([
      ['churn', 1002, 'untagged', ['Subscriber'], ['Churned'], 4],
      ['vip', 1002, 'untagged', ['VIP'], [], 4],
    ]);
    expect(requests).toEqual({ helpcrunch: 3, lookups: 1 });
    expect(tagsOf(1002)).toEqual(['Churned']);
  });

  it('changes every customer a lookup names (a HubSpot deal’s contacts)', async () => {
    const { outcomes } = await runJobs(
      [job('lost', { by: 'lookup', lookup: 'deal', value: '9001' }, ['Lead'])],
      pipelineWith(client, { lookups: resolver() }),
      budget(),
    );

    // Deal 9001: contact 501 (katherine@example.com) and 502 (no email).
    expect(outcomes.map((o) => [o.customerId, o.status, o.removed])).toEqual([[1004, 'untagged', ['Lead']]]);
  });

  it('skips a job whose lookup finds no one, with lookup_not_found and no HelpCrunch request', async () => {
    const { outcomes, failure } = await runJobs(
      [job('churn', stripe('cus_DeletedCustomr'), ['Subscriber'])],
      pipelineWith(client, { lookups: resolver() }),
      budget(),
    );

    expect(failure).toBeUndefined();
    expect(outcomes).toEqual([
      expect.objectContaining({ customerId: null, status: 'skipped', reason: 'lookup_not_found', requests: 1 }),
    ]);
    expect(calls()).toEqual([]);
  });

  it('fails a job whose lookup fails, naming the lookup, and never reports it as not found', async () => {
    const withOldKey = resolver();
    vendors.setKey('stripe', 'sk_test_rotatedElsewhere');
    const { outcomes, failure, failedLookup } = await runJobs(
      [
        job('churn', stripe('cus_Qh7GraceHopper'), ['Subscriber']),
        job('direct', { by: 'helpcrunchId', value: 1001 }, ['Lead']),
      ],
      pipelineWith(client, { lookups: withOldKey }),
      budget(),
    );

    expect(failure).toMatchObject({ status: 500, code: 'lookup_unauthorized' });
    expect(failedLookup).toBe('stripe');
    expect(outcomes.map((o) => [o.rule, o.status, o.reason])).toEqual([
      ['churn', 'failed', 'lookup_unauthorized'],
      ['direct', 'untagged', undefined],
    ]);
    expect(tagsOf(1002)).toEqual(['Subscriber', 'VIP']);
  });

  it('fails as retryable lookup_unavailable when the sender’s API cannot be reached', async () => {
    const closed = await startVendorApis();
    await closed.close();
    const unreachable = createLookupResolver({
      lookups: { stripe: { ...lookups.stripe!, baseUrl: closed.url } as LookupConfig },
      secrets: { get: async () => 'sk_test_x' },
      retryPolicy: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const { outcomes, failure } = await runJobs(
      [job('churn', stripe('cus_Qh7GraceHopper'), ['Subscriber'])],
      pipelineWith(client, { lookups: unreachable }),
      budget(),
    );

    expect(failure).toMatchObject({ status: 503, retryable: true, code: 'lookup_unavailable' });
    expect(outcomes).toEqual([
      expect.objectContaining({ status: 'failed', reason: 'lookup_unavailable', requests: 2 }),
    ]);
  });
});

describe('the pipeline failures', () => {
  // A sandbox of its own, holding customers 1, 2 and 7, answering as scripted where HelpCrunch fails.
  let stub: HelpCrunchSandbox;
  const tagged = (id: number, email: string | null = null): SandboxCustomer => ({
    id,
    email,
    userId: null,
    name: null,
    tags: [{ name: 'X', color: '#c377e0' }],
  });
  beforeAll(async () => {
    stub = await startHelpCrunchSandbox({ apiKey: KEY, customers: [tagged(1), tagged(2), tagged(7)] });
  });
  afterAll(() => stub.close());
  beforeEach(() => stub.reset());

  it('fails the jobs with a 400 from HelpCrunch as a bad event, without retrying', async () => {
    stub.script('*', { error: 'invalidTags' });
    const { outcomes, failure } = await runJobs(
      [job('r', { by: 'helpcrunchId', value: 7 }, ['X'])],
      pipelineWith(clientFor(stub.url)),
      budget(),
    );

    expect(failure).toMatchObject({ status: 400, retryable: false });
    expect(outcomes).toEqual([
      expect.objectContaining({ rule: 'r', customerId: 7, status: 'failed', reason: failure!.code, requests: 1 }),
    ]);
    expect(stub.requests).toHaveLength(1);
  });

  it('sends no PUT after a failed DELETE, and fails every job of that customer', async () => {
    stub.script('*', { error: 'invalidTags' });
    const ref = { by: 'helpcrunchId', value: 7 } as const;
    const { outcomes } = await runJobs(
      [job('remove', ref, ['X']), job('add', ref, [], ['Y'])],
      pipelineWith(clientFor(stub.url)),
      budget(),
    );

    expect(stub.requests.map((request) => request.method)).toEqual(['DELETE']);
    expect(outcomes.map((o) => [o.rule, o.status, o.reason])).toEqual([
      ['remove', 'failed', 'helpcrunch_bad_request'],
      ['add', 'failed', 'helpcrunch_bad_request'],
    ]);
  });

  it('fails only the jobs that add when the PUT fails after the DELETE went through', async () => {
    stub.script('PUT /v1/customers/:id/tags', { error: 'invalidTags' });
    const ref = { by: 'helpcrunchId', value: 7 } as const;
    const { outcomes, failure } = await runJobs(
      [job('remove', ref, ['X']), job('both', ref, ['Z'], ['Y'])],
      pipelineWith(clientFor(stub.url)),
      budget(),
    );

    expect(stub.requests.map((request) => request.method)).toEqual(['DELETE', 'PUT']);
    expect(failure).toMatchObject({ code: 'helpcrunch_bad_request' });
    expect(outcomes.map((o) => [o.rule, o.status, o.removed, o.reason])).toEqual([
      ['remove', 'untagged', ['X'], undefined],
      ['both', 'failed', [], 'helpcrunch_bad_request'],
    ]);
  });

  it('never counts a 404 from a wrong base URL as "customer not found": the jobs fail as a configuration error', async () => {
    // The sandbox, reached without its /v1 prefix: every route answers 404, none with HelpCrunch's not_found.
    const wrongBase = clientFor(sandbox.url.replace(/\/v1$/, '/v2'));
    const { outcomes, failure } = await runJobs(
      [job('r', { by: 'helpcrunchId', value: 1001 }, ['Lead'], ['Churned'])],
      pipelineWith(wrongBase),
      budget(),
    );

    expect(failure).toMatchObject({ status: 500, code: 'helpcrunch_route_not_found' });
    expect(outcomes).toEqual([expect.objectContaining({ status: 'failed', reason: 'helpcrunch_route_not_found' })]);
    expect(tagsOf(1001)).toEqual(['Lead', 'Trial user']);
  });

  it('fails a reference shared by more customers than the search takes, naming the field only', async () => {
    stub.reset(Array.from({ length: 1_001 }, (_, i) => tagged(i + 1, 'shared@example.com')));
    const { outcomes, failure } = await runJobs(
      [job('r', { by: 'email', value: 'shared@example.com' }, ['X'])],
      pipelineWith(clientFor(stub.url)),
      budget(),
    );

    expect(failure).toMatchObject({ status: 400, code: 'too_many_customers' });
    expect(failure!.message).not.toContain('shared@example.com');
    expect(outcomes).toEqual([
      expect.objectContaining({ customerId: null, status: 'failed', reason: 'too_many_customers' }),
    ]);
    expect(stub.requests.map((request) => request.method)).toEqual(['POST']);
  });

  it('reports the most severe failure: a retryable one outranks a bad event', async () => {
    stub.script('*', { error: 'invalidTags' }, { status: 503, times: 2 });
    const client = createHelpCrunchClient({
      baseUrl: stub.url,
      apiKey: { get: async () => KEY },
      timeoutMs: 1000,
      retryPolicy: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const { outcomes, failure } = await runJobs(
      [job('a', { by: 'helpcrunchId', value: 1 }, ['X']), job('b', { by: 'helpcrunchId', value: 2 }, ['Y'])],
      pipelineWith(client),
      budget(),
    );

    expect(outcomes.map((o) => [o.rule, o.status, o.requests])).toEqual([
      ['a', 'failed', 1],
      ['b', 'failed', 2],
    ]);
    expect(failure).toMatchObject({ status: 503, retryable: true });
  });
});
