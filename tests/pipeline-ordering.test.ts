/**
 * The pipeline with its ledger (dynalite over DynamoDB's protocol) and HelpCrunch (the sandbox over
 * HTTP): the newest event per customer and tag wins whatever the arrival order, a unit applied once
 * is a duplicate after, a failing ledger changes nothing, and a dry run records nothing.
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHelpCrunchClient } from '../lib/helpcrunch/client';
import { createLedger, type Ledger } from '../lib/ledger';
import { createLookupResolver } from '../lib/lookups/resolver';
import { executeUnits, type PipelineDeps, unitKey } from '../lib/pipeline';
import { unitsOf } from '../lib/pipeline/units';
import { RetryBudget } from '../lib/http/retry';
import type { CustomerRef, Job, Unit } from '../lib/types';
import { type HelpCrunchSandbox, startHelpCrunchSandbox } from '../local/sandbox/helpcrunch-sandbox';
import { freshLedger } from './support/ledger';

const KEY = 'ordering-key';
const ann = {
  id: 501,
  email: 'ann@example.com',
  userId: 'u-ann',
  name: 'Ann',
  tags: [{ name: 'Lead', color: '#000000' }],
};
const bob = { id: 502, email: 'bob@example.com', userId: 'u-bob', name: 'Bob', tags: [] };

let sandbox: HelpCrunchSandbox;
let ledger: Ledger;

const budget = () => RetryBudget.until(Date.now() + 10_000);
const calls = () => sandbox.requests.map((r) => `${r.method} ${r.path}`);
const tagsOf = (id: number) =>
  sandbox
    .customer(id)
    ?.tags.map((tag) => tag.name)
    .sort();
const T0 = Date.UTC(2026, 10, 1);

function deps(overrides: Partial<PipelineDeps> = {}): PipelineDeps {
  return {
    helpcrunch: createHelpCrunchClient({ baseUrl: sandbox.url, apiKey: { get: async () => KEY }, timeoutMs: 1000 }),
    lookups: createLookupResolver({ lookups: {}, secrets: { get: async () => 'unused' } }),
    dryRun: false,
    ledger,
    maxCustomers: 100,
    ...overrides,
  };
}

function unit(id: string, minutes: number, customer: CustomerRef, removeTags: string[], addTags: string[] = []): Unit {
  const job: Job = { rule: `rule-${id}`, customer, removeTags, addTags };
  return unitsOf({ source: 'crm', id, occurredAt: T0 + minutes * 60_000 }, [job])[0]!;
}
const byEmail = { by: 'email', value: ann.email } as const;
const byId = { by: 'helpcrunchId', value: ann.id } as const;

beforeAll(async () => {
  sandbox = await startHelpCrunchSandbox({ apiKey: KEY, customers: [ann, bob] });
});
afterAll(() => sandbox.close());
beforeEach(async () => {
  sandbox.reset();
  // A fresh table per test: decisions of one test must not reach the next.
  ledger = await freshLedger();
});

describe('newest event wins per customer and tag', () => {
  it('an older event arriving after a newer one is stale for the tags the newer one decided', async () => {
    const won = unit('won', 10, byEmail, [], ['Active']);
    const lost = unit('lost', 5, byEmail, ['Active']);
    await executeUnits([won], deps(), budget());
    const { outcomes, failure } = await executeUnits([lost], deps(), budget());
    expect(failure).toBeUndefined();
    expect(outcomes).toEqual([
      expect.objectContaining({
        rule: 'rule-lost',
        customerId: ann.id,
        status: 'skipped',
        reason: 'stale_event',
        event: { source: 'crm', id: 'lost', occurredAt: '2026-11-01T00:05:00.000Z' },
        newerEvent: { source: 'crm', id: 'won', occurredAt: '2026-11-01T00:10:00.000Z' },
      }),
    ]);
    expect(tagsOf(ann.id)).toEqual(['Active', 'Lead']);
  });

  it('in one batch, the units are applied oldest first whatever their order', async () => {
    const { outcomes } = await executeUnits(
      [unit('lost', 20, byEmail, ['Active']), unit('won', 10, byEmail, [], ['Active'])],
      deps(),
      budget(),
    );
    expect(outcomes.map((o) => [o.rule, o.status])).toEqual([
      ['rule-won', 'tagged'],
      ['rule-lost', 'untagged'],
    ]);
    expect(tagsOf(ann.id)).toEqual(['Lead']);
  });

  it('equal times: the later arrival wins', async () => {
    await executeUnits([unit('a', 10, byEmail, [], ['Active'])], deps(), budget());
    const { outcomes } = await executeUnits([unit('b', 10, byEmail, ['Active'])], deps(), budget());
    expect(outcomes[0]).toMatchObject({ status: 'untagged', removed: ['Active'] });
    expect(tagsOf(ann.id)).toEqual(['Lead']);
  });

  it('a job whose other tags are fresh still changes those', async () => {
    await executeUnits([unit('newer', 30, byEmail, [], ['Lead'])], deps(), budget());
    sandbox.reset();
    const { outcomes } = await executeUnits(
      [unit('older', 20, byEmail, ['Lead', 'Trial'], ['Churned'])],
      deps(),
      budget(),
    );
    expect(outcomes[0]).toMatchObject({ status: 'tagged', added: ['Churned'], removed: [], reason: 'stale_event' });
    expect(tagsOf(ann.id)).toEqual(['Churned', 'Lead']);
  });

  it('an event whose change was already in place still decides the tag', async () => {
    const first = await executeUnits([unit('absent', 30, byEmail, ['Active'])], deps(), budget());
    expect(first.outcomes[0]).toMatchObject({ status: 'skipped', reason: 'tags_absent' });
    expect(calls()).toEqual(['POST /v1/customers/search']);
    const { outcomes } = await executeUnits([unit('older', 20, byEmail, [], ['Active'])], deps(), budget());
    expect(outcomes[0]).toMatchObject({ status: 'skipped', reason: 'stale_event' });
    expect(tagsOf(ann.id)).toEqual(['Lead']);
  });

  it('decisions hold across references: an id and an email of one customer meet in the ledger', async () => {
    await executeUnits([unit('by-id', 10, byId, ['Lead'])], deps(), budget());
    const { outcomes } = await executeUnits([unit('by-email', 5, byEmail, [], ['Lead'])], deps(), budget());
    expect(outcomes[0]).toMatchObject({ status: 'skipped', reason: 'stale_event' });
    expect(tagsOf(ann.id)).toEqual([]);
  });

  it('conflicting rules of one unit leave the tag alone and do not decide it', async () => {
    const event = { source: 'crm', id: 'both', occurredAt: T0 + 60_000 };
    const [both] = unitsOf(event, [
      { rule: 'removes', customer: byEmail, removeTags: ['Lead'], addTags: [] },
      { rule: 'adds', customer: byEmail, removeTags: [], addTags: ['Lead'] },
    ]);
    const { outcomes } = await executeUnits([both!], deps(), budget());
    expect(outcomes.map((o) => [o.rule, o.status, o.reason])).toEqual([
      ['removes', 'skipped', 'conflicting_rules'],
      ['adds', 'skipped', 'conflicting_rules'],
    ]);
    expect(calls()).toEqual(['POST /v1/customers/search']);
    const later = await executeUnits([unit('older', 0, byEmail, ['Lead'])], deps(), budget());
    expect(later.outcomes[0]).toMatchObject({ status: 'untagged' });
  });
});

describe('duplicates', () => {
  it('a unit applied once is skipped as duplicate_event after, without a single HelpCrunch request', async () => {
    const lost = unit('lost', 5, byEmail, ['Lead']);
    await executeUnits([lost], deps(), budget());
    sandbox.reset();
    const { outcomes, requests } = await executeUnits([lost], deps(), budget());
    expect(outcomes).toEqual([
      expect.objectContaining({ rule: 'rule-lost', customerId: ann.id, status: 'skipped', reason: 'duplicate_event' }),
    ]);
    expect(calls()).toEqual([]);
    expect(requests).toEqual({ helpcrunch: 0, lookups: 0 });
    expect(tagsOf(ann.id)).toEqual(['Lead']);
  });

  it('a replay after a newer event is still a duplicate, not applied again', async () => {
    const lost = unit('lost', 5, byEmail, ['Lead']);
    await executeUnits([lost], deps(), budget());
    await executeUnits([unit('won', 10, byEmail, [], ['Lead'])], deps(), budget());
    const { outcomes } = await executeUnits([lost], deps(), budget());
    expect(outcomes[0]).toMatchObject({ reason: 'duplicate_event' });
    expect(tagsOf(ann.id)).toEqual(['Lead']);
  });

  it('a unit being applied elsewhere fails as event_in_progress (retryable) with nothing sent', async () => {
    const lost = unit('lost', 5, byEmail, ['Lead']);
    await ledger.units.start(unitKey(lost), budget());
    const { outcomes, failure } = await executeUnits([lost], deps(), budget());
    expect(failure).toMatchObject({ code: 'event_in_progress', retryable: true });
    expect(outcomes[0]).toMatchObject({ status: 'failed', reason: 'event_in_progress' });
    expect(calls()).toEqual([]);
  });

  it('a lone unit naming its customer by id gives back the lease it asked for early when it does not go ahead', async () => {
    const replayed = unit('replayed', 5, byId, ['Lead']);
    await executeUnits([replayed], deps(), budget());
    const duplicate = await executeUnits([replayed], deps(), budget());
    expect(duplicate.outcomes[0]).toMatchObject({ reason: 'duplicate_event' });
    const elsewhere = unit('elsewhere', 6, byId, ['Trial']);
    await ledger.units.start(unitKey(elsewhere), budget());
    expect((await executeUnits([elsewhere], deps(), budget())).failure).toMatchObject({ code: 'event_in_progress' });
    // Neither kept the customer: the next event goes ahead at once instead of waiting out a lease.
    const { outcomes, failure } = await executeUnits(
      [unit('next', 7, byId, [], ['Active'])],
      deps({ leaseWaitMs: 0 }),
      budget(),
    );
    expect(failure).toBeUndefined();
    expect(outcomes[0]).toMatchObject({ status: 'tagged', added: ['Active'] });
  });

  it('a unit that failed is applied on its retry', async () => {
    const lost = unit('lost', 5, byEmail, ['Lead']);
    sandbox.setFaults({ rate5xx: 1 });
    const first = await executeUnits([lost], deps(), RetryBudget.until(Date.now() + 1_500));
    expect(first.failure).toMatchObject({ retryable: true });
    sandbox.setFaults({ rate5xx: 0 });
    const { outcomes } = await executeUnits([lost], deps(), budget());
    expect(outcomes[0]).toMatchObject({ status: 'untagged', removed: ['Lead'] });
  });

  it('a lease that cannot be given back fails the unit and takes its record back, so its retry applies', async () => {
    const lost = unit('lost', 5, byEmail, ['Lead']);
    // The unit's record is written beside the lease's release; here the release fails.
    const losing = {
      ...ledger,
      customers: {
        acquire: async (...args: Parameters<Ledger['customers']['acquire']>) => {
          const result = await ledger.customers.acquire(...args);
          if (!('lease' in result)) return result;
          const { lease } = result;
          return {
            lease: {
              decisions: lease.decisions,
              release: async (_decided: Map<string, never>, within: RetryBudget) => {
                await lease.release(new Map(), within);
                throw Object.assign(new Error('lost'), { name: 'RetryableError' });
              },
            },
          };
        },
      },
    } as Ledger;
    const first = await executeUnits([lost], deps({ ledger: losing }), budget());
    expect(first.failure).toMatchObject({ code: 'internal_error' });
    expect(first.outcomes[0]).toMatchObject({ status: 'failed' });
    const retry = await executeUnits([lost], deps(), budget());
    expect(retry.outcomes[0]).toMatchObject({ status: 'skipped', reason: 'tags_absent' });
    expect(retry.outcomes[0]!.reason).not.toBe('duplicate_event');
  });

  it('two units of one customer at once are applied one after the other (the lease)', async () => {
    const results = await Promise.all([
      executeUnits([unit('won', 10, byEmail, [], ['Active'])], deps(), budget()),
      executeUnits([unit('lost', 5, byId, ['Active'])], deps(), budget()),
    ]);
    expect(results.map((r) => r.failure)).toEqual([undefined, undefined]);
    // Whichever took the lease first, the newer event's addition is where the tag ends.
    expect(tagsOf(ann.id)).toEqual(['Active', 'Lead']);
  });
});

describe('the ledger failing', () => {
  let stalled: Server;
  const sockets = new Set<import('node:net').Socket>();
  let stalledUrl: string;
  beforeAll(async () => {
    stalled = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    stalledUrl = `http://127.0.0.1:${(stalled.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => stalled.close(() => resolve()));
  });

  it.each([
    ['refuses connections', () => 'http://127.0.0.1:9'],
    ['accepts the connection and never answers', () => stalledUrl],
  ])('when DynamoDB %s, nothing is changed and the unit fails as retryable', async (_, endpoint) => {
    const client = new DynamoDBClient({
      endpoint: endpoint(),
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      requestHandler: { connectionTimeout: 300, requestTimeout: 300, throwOnRequestTimeout: true },
      maxAttempts: 1,
    });
    const broken = createLedger({ tableName: 'ledger', dedupDays: 7, client });
    const { outcomes, failure } = await executeUnits(
      [unit('lost', 5, byEmail, ['Lead'])],
      deps({ ledger: broken }),
      budget(),
    );
    expect(failure).toMatchObject({ code: 'ledger_unavailable', retryable: true });
    expect(outcomes[0]).toMatchObject({ status: 'failed', reason: 'ledger_unavailable' });
    expect(calls()).toEqual([]);
    expect(tagsOf(ann.id)).toEqual(['Lead']);
  });
});

describe('a dry run', () => {
  it('reads nothing as a duplicate and records nothing, so the real run after it applies', async () => {
    const lost = unit('lost', 5, byEmail, ['Lead']);
    const dry = await executeUnits([lost], deps({ dryRun: true, ledger: undefined }), budget());
    expect(dry.outcomes[0]).toMatchObject({ status: 'would_untag' });
    const again = await executeUnits([lost], deps({ dryRun: true, ledger: undefined }), budget());
    expect(again.outcomes[0]).toMatchObject({ status: 'would_untag' });
    const real = await executeUnits([lost], deps(), budget());
    expect(real.outcomes[0]).toMatchObject({ status: 'untagged', removed: ['Lead'] });
  });
});

describe('the customer cap', () => {
  it('refuses units naming more customers than allowed with too_many_customers, nothing written', async () => {
    const units = [unit('a', 1, byId, ['Lead']), unit('b', 1, { by: 'helpcrunchId', value: bob.id }, ['Lead'])];
    const { outcomes, failure } = await executeUnits(units, deps({ maxCustomers: 1 }), budget());
    expect(failure).toMatchObject({ code: 'too_many_customers', status: 413, retryable: false });
    expect(outcomes.every((o) => o.status === 'failed' && o.reason === 'too_many_customers')).toBe(true);
    expect(calls()).toEqual([]);
    // Nothing is remembered: the same units under a higher cap apply.
    const { outcomes: applied } = await executeUnits(units, deps(), budget());
    expect(applied.map((o) => o.status)).toEqual(['untagged', 'untagged']);
  });
});
