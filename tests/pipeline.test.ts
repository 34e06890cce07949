/** executeJobs against real HTTP: the sandbox for the contract, the stub where HelpCrunch must misbehave. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHelpCrunchClient, type HelpCrunchClient } from '../lib/helpcrunch/client';
import { executeJobs } from '../lib/pipeline';
import { RetryBudget } from '../lib/retry';
import { startHelpCrunchSandbox, type HelpCrunchSandbox } from '../local/sandbox/helpcrunch-sandbox';
import type { Job } from '../lib/types';
import { startHelpCrunchStub, type HelpCrunchStub } from './support/helpcrunch-stub';

const KEY = 'pipeline-key';
let sandbox: HelpCrunchSandbox;
let client: HelpCrunchClient;

const budget = () => RetryBudget.until(Date.now() + 10_000);
const clientFor = (baseUrl: string) => createHelpCrunchClient({ baseUrl, apiKey: { get: async () => KEY }, timeoutMs: 1000 });
const calls = () => sandbox.requests.map((r) => `${r.method} ${r.path}`);

beforeAll(async () => {
  sandbox = await startHelpCrunchSandbox({ apiKey: KEY });
  client = clientFor(sandbox.url);
});
afterAll(() => sandbox.close());
beforeEach(() => sandbox.reset());

describe('executeJobs', () => {
  it('merges every tag the rules remove from one customer into one DELETE', async () => {
    const jobs: Job[] = [
      { rule: 'by-email', customer: { by: 'email', value: 'katherine@example.com' }, removeTags: ['Lead'], addTags: [] },
      { rule: 'by-user-id', customer: { by: 'userId', value: 'u-katherine' }, removeTags: ['VIP'], addTags: [] },
      { rule: 'by-id', customer: { by: 'helpcrunchId', value: 1004 }, removeTags: ['Subscriber', 'Lead'], addTags: [] },
    ];

    const { outcomes, failure } = await executeJobs(jobs, client, budget());

    expect(failure).toBeUndefined();
    expect(outcomes.map((o) => [o.rule, o.customerId, o.status])).toEqual([
      ['by-email', 1004, 'untagged'],
      ['by-user-id', 1004, 'untagged'],
      ['by-id', 1004, 'untagged'],
    ]);
    expect(calls()).toEqual(['POST /v1/customers/search', 'POST /v1/customers/search', 'DELETE /v1/customers/1004/tags']);
    expect(sandbox.customer(1004)?.tags).toEqual([]);
  });

  it('searches once for a reference that several rules share', async () => {
    const ref = { by: 'email', value: 'ada@example.com' } as const;
    const { outcomes } = await executeJobs(
      [
        { rule: 'one', customer: ref, removeTags: ['Lead'], addTags: [] },
        { rule: 'two', customer: ref, removeTags: ['Trial user'], addTags: [] },
      ],
      client,
      budget(),
    );

    expect(calls()).toEqual(['POST /v1/customers/search', 'DELETE /v1/customers/1001/tags']);
    expect(outcomes.map((o) => o.attempts)).toEqual([2, 2]);
  });

  it('reports tags_absent per rule and deletes only the tags the customer carries', async () => {
    const ref = { by: 'email', value: 'alan@example.com' } as const; // carries only "Trial user"
    const { outcomes } = await executeJobs(
      [
        { rule: 'lead', customer: ref, removeTags: ['Lead'], addTags: [] },
        { rule: 'trial', customer: ref, removeTags: ['Trial user', 'VIP'], addTags: [] },
      ],
      client,
      budget(),
    );

    expect(outcomes.map((o) => [o.rule, o.status, o.reason])).toEqual([
      ['lead', 'skipped', 'tags_absent'],
      ['trial', 'untagged', undefined],
    ]);
    expect(sandbox.customer(1003)?.tags).toEqual([]);
  });

  it('treats tag names as case-sensitive', async () => {
    const { outcomes } = await executeJobs([{ rule: 'lower', customer: { by: 'email', value: 'ada@example.com' }, removeTags: ['lead'], addTags: [] }], client, budget());

    expect(outcomes[0]).toMatchObject({ status: 'skipped', reason: 'tags_absent' });
    expect(calls()).toEqual(['POST /v1/customers/search']);
  });

  it('untags every customer a search returns', async () => {
    const twins = [
      { id: 1, email: 'twin@example.com', userId: null, name: null, tags: [{ name: 'Lead', color: '#000' }] },
      { id: 2, email: 'twin@example.com', userId: null, name: null, tags: [{ name: 'Lead', color: '#000' }] },
    ];
    sandbox.reset(twins);
    const { outcomes } = await executeJobs([{ rule: 'r', customer: { by: 'email', value: 'twin@example.com' }, removeTags: ['Lead'], addTags: [] }], client, budget());

    expect(outcomes.map((o) => [o.customerId, o.status])).toEqual([[1, 'untagged'], [2, 'untagged']]);
    expect(sandbox.customers().flatMap((c) => c.tags)).toEqual([]);
  });
});

describe('executeJobs failures', () => {
  let stub: HelpCrunchStub;
  beforeAll(async () => {
    stub = await startHelpCrunchStub();
  });
  afterAll(() => stub.close());
  beforeEach(() => {
    stub.requests.length = 0;
  });

  it('fails the jobs with a 400 from HelpCrunch as a bad event, without retrying', async () => {
    stub.enqueue({ status: 400, body: { errors: [{ code: 'invalid_tags', message: 'bad tags' }] } });
    const { outcomes, failure } = await executeJobs([{ rule: 'r', customer: { by: 'helpcrunchId', value: 7 }, removeTags: ['X'], addTags: [] }], clientFor(stub.url), budget());

    expect(failure).toMatchObject({ status: 400, retryable: false });
    expect(outcomes).toEqual([expect.objectContaining({ rule: 'r', customerId: 7, status: 'failed', reason: failure!.code, attempts: 1 })]);
    expect(stub.requests).toHaveLength(1);
  });

  it('never counts a 404 from a wrong base URL as "customer not found": the jobs fail as a configuration error', async () => {
    // The sandbox, reached without its /v1 prefix: every route answers 404, none with HelpCrunch's not_found.
    const wrongBase = clientFor(sandbox.url.replace(/\/v1$/, '/v2'));
    const { outcomes, failure } = await executeJobs([{ rule: 'r', customer: { by: 'helpcrunchId', value: 1001 }, removeTags: ['Lead'], addTags: [] }], wrongBase, budget());

    expect(failure).toMatchObject({ status: 500, code: 'helpcrunch_route_not_found' });
    expect(outcomes).toEqual([expect.objectContaining({ status: 'failed', reason: 'helpcrunch_route_not_found' })]);
    expect(sandbox.customer(1001)?.tags.map((tag) => tag.name)).toEqual(['Lead', 'Trial user']);
  });

  it('fails a reference shared by more customers than the search takes, naming the field only', async () => {
    stub.fallback = (request) => {
      const { offset } = request.body as { offset: number };
      return { status: 200, body: { data: Array.from({ length: 100 }, (_, i) => ({ id: offset + i + 1, tags: [{ name: 'X' }] })), total: 5_000 } };
    };
    try {
      const { outcomes, failure } = await executeJobs([{ rule: 'r', customer: { by: 'email', value: 'shared@example.com' }, removeTags: ['X'], addTags: [] }], clientFor(stub.url), budget());

      expect(failure).toMatchObject({ status: 400, code: 'too_many_customers' });
      expect(failure!.message).not.toContain('shared@example.com');
      expect(outcomes).toEqual([expect.objectContaining({ customerId: null, status: 'failed', reason: 'too_many_customers' })]);
      expect(stub.requests.map((request) => request.method)).toEqual(['POST']);
    } finally {
      stub.fallback = () => ({ status: 200, body: {} });
    }
  });

  it('reports the most severe failure: a retryable one outranks a bad event', async () => {
    stub.enqueue(
      { status: 400, body: { errors: [{ code: 'invalid_tags', message: 'bad tags' }] } },
      { status: 503 },
      { status: 503 },
    );
    const client = createHelpCrunchClient({
      baseUrl: stub.url,
      apiKey: { get: async () => KEY },
      timeoutMs: 1000,
      retryPolicy: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const { outcomes, failure } = await executeJobs(
      [
        { rule: 'a', customer: { by: 'helpcrunchId', value: 1 }, removeTags: ['X'], addTags: [] },
        { rule: 'b', customer: { by: 'helpcrunchId', value: 2 }, removeTags: ['Y'], addTags: [] },
      ],
      client,
      budget(),
    );

    expect(outcomes.map((o) => [o.rule, o.status, o.attempts])).toEqual([['a', 'failed', 1], ['b', 'failed', 2]]);
    expect(failure).toMatchObject({ status: 503, retryable: true });
  });
});
