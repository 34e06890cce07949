import { beforeAll, describe, expect, it } from 'vitest';
import { createLedger, type Ledger } from '../lib/ledger';
import { RetryBudget } from '../lib/http/retry';
import { freshLedgerTable, localDynamoDb } from './support/ledger';

let ledger: Ledger;
let tableName: string;
const budget = () => RetryBudget.until(Date.now() + 10_000);

beforeAll(async () => {
  tableName = await freshLedgerTable();
  ledger = createLedger({ tableName, dedupDays: 7, client: (await localDynamoDb()).client });
});

describe('units', () => {
  const unit = { source: 'crm', eventId: 'evt-1', customer: 'email:ann@example.com' };
  it('starts once, is in progress for a second taker, done with its outcomes after finish', async () => {
    expect(await ledger.units.start(unit, budget())).toEqual({ state: 'started' });
    expect(await ledger.units.start(unit, budget())).toEqual({ state: 'in_progress' });
    const event = { source: 'crm', id: 'evt-1', occurredAt: '2026-11-01T00:00:00.000Z' };
    const outcomes = [
      { rule: 'r', customerId: 1, removed: ['A'], added: [], status: 'untagged' as const, requests: 2, ms: 3, event },
    ];
    await ledger.units.finish(unit, outcomes, budget());
    expect(await ledger.units.start(unit, budget())).toEqual({ state: 'done', outcomes });
  });
  it('abandoned, a unit starts afresh', async () => {
    const other = { ...unit, eventId: 'evt-2' };
    await ledger.units.start(other, budget());
    await ledger.units.abandon(other, budget());
    expect(await ledger.units.start(other, budget())).toEqual({ state: 'started' });
  });
});

describe('customers', () => {
  it('one holder at a time; decisions recorded on release and read by the next', async () => {
    const first = await ledger.customers.acquire(7, ['A', 'B'], budget());
    if (!('lease' in first)) throw new Error('expected a lease');
    expect(first.lease.decisions.size).toBe(0);
    const second = await ledger.customers.acquire(7, ['A'], budget());
    expect(second).toEqual({ busyForMs: expect.any(Number) });
    const decision = { occurredAt: 1_700_000_000_000, unitKey: 'k1', eventId: 'evt-1', source: 'crm' };
    await first.lease.release(new Map([['A', decision]]), budget());
    const third = await ledger.customers.acquire(7, ['A', 'B'], budget());
    if (!('lease' in third)) throw new Error('expected a lease');
    expect(third.lease.decisions).toEqual(new Map([['A', decision]]));
    await third.lease.release(new Map(), budget());
  });
  it('a release after the lease ran out and was taken is refused', async () => {
    let clock = Date.now();
    const timed = createLedger({ tableName, dedupDays: 7, client: (await localDynamoDb()).client, now: () => clock });
    const short = () => RetryBudget.until(clock + 100, () => clock);
    const first = await timed.customers.acquire(8, ['A'], short());
    clock += 60_000;
    const second = await timed.customers.acquire(8, ['A'], short());
    if (!('lease' in first) || !('lease' in second)) throw new Error('expected leases');
    await expect(first.lease.release(new Map(), budget())).rejects.toMatchObject({ code: 'lease_lost' });
    await second.lease.release(new Map(), budget());
  });
});

describe('attempts', () => {
  it('counts failed attempts per unit', async () => {
    expect(await ledger.attempts.failed('u1', budget())).toBe(1);
    expect(await ledger.attempts.failed('u1', budget())).toBe(2);
    expect(await ledger.attempts.failed('u2', budget())).toBe(1);
  });
});
