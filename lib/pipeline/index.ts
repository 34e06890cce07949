/**
 * Units -> outcomes: the one pipeline inline dispatch and the queue worker both run.
 *   1. Each unit (one event's jobs for one customer reference) is started in the ledger: a unit
 *      applied before is skipped as duplicate_event with nothing sent; one being applied elsewhere
 *      right now fails as event_in_progress (retried later).
 *   2. References are resolved: lookups through the senders' APIs, then HelpCrunch searches. If
 *      they name more customers than the cap, nothing is written (too_many_customers).
 *   3. Oldest event first, each unit changes each of its customers (./change.ts: newest event wins
 *      per tag, one DELETE and one PUT), then is finished with its outcomes (remembered for
 *      DEDUP_DAYS) or, when a job failed, abandoned so that its retry starts afresh.
 * A dry run has no ledger: it reads nothing as a duplicate and records nothing it did not do.
 * Knows nothing about the trigger that produced the units.
 */
import { asUntagError, RetryableError, TooManyCustomersError, type UntagError } from '../errors';
import type { HelpCrunchClient } from '../helpcrunch/client';
import type { Ledger } from '../ledger';
import type { UnitKey } from '../ledger/dedup';
import type { LookupResolver } from '../lookups/resolver';
import { logger } from '../observability';
import type { RetryBudget } from '../http/retry';
import type { Outcome, PipelineResult, RequestCounts, Unit } from '../types';
import type { LeaseResult } from '../ledger/customers';
import { type CustomerChange, changeCustomer, tagsOf } from './change';
import { Resolutions } from './resolve';
import { byOccurrence, customerRefKey, shownEvent } from './units';

export interface PipelineDeps {
  helpcrunch: HelpCrunchClient;
  lookups: LookupResolver;
  /** Send no DELETE and no PUT: outcomes say what would have changed (would_untag / would_tag). */
  dryRun: boolean;
  /** Required for a real run; a dry run never touches it. */
  ledger?: Ledger;
  /** Most distinct customers one call may change (MAX_CUSTOMERS_PER_REQUEST). */
  maxCustomers: number;
  /** How long a unit waits for another's lease on the same customer; default 3 s. */
  leaseWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

// ConfigError first: nothing will work until an operator acts; then retryable (the sender
// should come back); a bad event last, since retrying it can never help.
const severity = (error: UntagError): number => (error.status === 500 ? 3 : error.retryable ? 2 : 1);

const sleepWithTimer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const unitKey = (unit: Unit): UnitKey => ({
  source: unit.event.source,
  eventId: unit.event.id,
  customer: customerRefKey(unit.customer),
});

/** The outcomes of one call, and its most severe failure. */
class Outcomes {
  readonly list: Outcome[] = [];
  private worst: { error: UntagError; lookup?: string } | undefined;

  /** What `unit`'s job got (customer null when it was not resolved). */
  add(unit: Unit, outcome: Omit<Outcome, 'event'>): void {
    this.list.push({ ...outcome, event: shownEvent(unit.event) });
  }

  /** Every job of `jobs` left unchanged, as `status` for `reason`. */
  unchanged(
    unit: Unit,
    jobs: Unit['jobs'],
    customerId: number | null,
    status: 'skipped' | 'failed',
    reason: string,
    requests: number,
    since: number,
  ): void {
    const ms = Date.now() - since;
    for (const { rule } of jobs)
      this.add(unit, { rule, customerId, removed: [], added: [], status, reason, requests, ms });
  }

  failed(
    unit: Unit,
    jobs: Unit['jobs'],
    error: UntagError,
    customer: number | null,
    requests: number,
    since: number,
    lookup?: string,
  ): void {
    if (!this.worst || severity(error) > severity(this.worst.error)) this.worst = { error, lookup };
    this.unchanged(unit, jobs, customer, 'failed', error.code, requests, since);
  }

  result(requests: RequestCounts): PipelineResult {
    const { worst } = this;
    return {
      outcomes: this.list,
      ...(worst && { failure: worst.error, ...(worst.lookup && { failedLookup: worst.lookup }) }),
      requests,
    };
  }
}

export async function executeUnits(units: Unit[], deps: PipelineDeps, budget: RetryBudget): Promise<PipelineResult> {
  const ledger = deps.dryRun ? undefined : deps.ledger;
  if (!deps.dryRun && !ledger) throw new Error('executeUnits: a real run needs the ledger');
  const outcomes = new Outcomes();

  const startedAt = Date.now();
  const started: Unit[] = [];
  // A lone unit naming its customer by id needs no search: its lease is asked for beside the unit's
  // start, one round trip instead of two; given back at once when the unit does not go ahead. Only a
  // lone one: a lease held early would keep out an earlier unit that resolves to the same customer.
  const early = new Map<Unit, Promise<LeaseResult>>();
  const letGo = async (asked: Promise<LeaseResult> | undefined) => {
    const result = await asked?.catch(() => undefined);
    if (result && 'lease' in result) await result.lease.release(new Map(), budget).catch(() => undefined);
  };
  for (const unit of byOccurrence(units)) {
    if (!ledger) {
      started.push(unit);
      continue;
    }
    const asked =
      units.length === 1 && unit.customer.by === 'helpcrunchId'
        ? ledger.customers.acquire(unit.customer.value, tagsOf(unit), budget)
        : undefined;
    // Awaited later, or let go; a failure here is the lease's own, reported where the lease is taken.
    asked?.catch(() => undefined);
    try {
      const start = await ledger.units.start(unitKey(unit), budget);
      if (start.state === 'started') {
        started.push(unit);
        if (asked) early.set(unit, asked);
        continue;
      }
      await letGo(asked);
      if (start.state === 'done') duplicate(unit, start.outcomes, outcomes);
      else {
        const busy = new RetryableError(
          'This event is being applied by another invocation',
          2_000,
          'event_in_progress',
        );
        outcomes.failed(unit, unit.jobs, busy, null, 0, startedAt);
      }
    } catch (error) {
      await letGo(asked);
      outcomes.failed(unit, unit.jobs, asUntagError(error), null, 0, startedAt);
    }
  }

  const resolutions = new Resolutions(deps.helpcrunch, deps.lookups, budget);
  /** Over the cap: nothing is written, and no started unit stays recorded as in progress. */
  const refuse = async (count: number) => {
    await Promise.all([...started.map((unit) => abandon(ledger, unit, budget)), ...[...early.values()].map(letGo)]);
    const error = new TooManyCustomersError(count, deps.maxCustomers);
    for (const unit of started) outcomes.failed(unit, unit.jobs, error, null, 0, startedAt);
    return outcomes.result(resolutions.requests);
  };
  await resolutions.lookUp(started.map((unit) => unit.customer));
  const references = new Set(started.flatMap((unit) => resolutions.directRefs(unit.customer).map(customerRefKey)));
  if (references.size > deps.maxCustomers) return refuse(references.size);
  await resolutions.search(started.map((unit) => unit.customer));
  const customers = new Set(started.flatMap((unit) => whomIds(resolutions, unit)));
  if (customers.size > deps.maxCustomers) return refuse(customers.size);

  const changeDeps = {
    helpcrunch: deps.helpcrunch,
    dryRun: deps.dryRun,
    customers: ledger?.customers,
    leaseWaitMs: deps.leaseWaitMs ?? 3_000,
    sleep: deps.sleep ?? sleepWithTimer,
  };
  for (const unit of started) {
    const since = Date.now();
    const before = outcomes.list.length;
    const whom = resolutions.whom(unit.customer);
    let finished = false;
    if (whom.kind === 'failed') {
      outcomes.failed(unit, unit.jobs, whom.error, null, whom.requests, since, whom.lookup);
    } else if (whom.kind === 'none') {
      outcomes.unchanged(unit, unit.jobs, null, 'skipped', whom.reason, whom.requests, since);
    } else {
      const last = whom.customers.length - 1;
      for (const [index, customer] of whom.customers.entries()) {
        const at = Date.now();
        let change: CustomerChange;
        try {
          change = await changeCustomer(customer, unit, changeDeps, budget, early.get(unit));
        } catch (error) {
          outcomes.failed(unit, unit.jobs, asUntagError(error), customer.id, whom.requests, at);
          continue;
        }
        resolutions.requests.helpcrunch += change.requests;
        resolutions.changed(customer.id, change.tags);
        const requests = whom.requests + change.requests;
        const settle = (released: UntagError | undefined) => {
          for (const job of unit.jobs) {
            const outcome = change.outcome(job, released);
            if ('error' in outcome) outcomes.failed(unit, [job], outcome.error, customer.id, requests, at);
            else
              outcomes.add(unit, {
                rule: job.rule,
                customerId: customer.id,
                ...outcome,
                requests,
                ms: Date.now() - at,
              });
          }
        };
        const succeeded =
          !failedSince(outcomes, before) && unit.jobs.every((job) => !('error' in change.outcome(job, undefined)));
        if (!ledger || index < last || !succeeded) {
          settle(await change.release(budget));
          continue;
        }
        // The unit's last customer, all well: its lease is given back while the unit is recorded as
        // applied, in one round trip. Should giving the lease back fail, the record is taken back.
        settle(undefined);
        const [released] = await Promise.all([
          change.release(budget),
          finish(ledger, unit, outcomes.list.slice(before), budget),
        ]);
        finished = !released;
        if (released) {
          outcomes.list.splice(outcomes.list.length - unit.jobs.length);
          settle(released);
        }
      }
    }
    if (!ledger) continue;
    if (failedSince(outcomes, before)) await abandon(ledger, unit, budget);
    else if (!finished) await finish(ledger, unit, outcomes.list.slice(before), budget);
  }
  return outcomes.result(resolutions.requests);
}

/** Whether a job of the unit whose outcomes start at `before` failed. */
const failedSince = (outcomes: Outcomes, before: number): boolean =>
  outcomes.list.slice(before).some((outcome) => outcome.status === 'failed');

/** A unit applied before: its jobs are skipped, each with the customer it had then. */
function duplicate(unit: Unit, stored: Outcome[], outcomes: Outcomes): void {
  const skipped = { removed: [], added: [], status: 'skipped' as const, reason: 'duplicate_event', requests: 0, ms: 0 };
  if (stored.length === 0) outcomes.unchanged(unit, unit.jobs, null, 'skipped', 'duplicate_event', 0, Date.now());
  for (const { rule, customerId } of stored) outcomes.add(unit, { rule, customerId, ...skipped });
}

function whomIds(resolutions: Resolutions, unit: Unit): number[] {
  const whom = resolutions.whom(unit.customer);
  return whom.kind === 'customers' ? whom.customers.map((customer) => customer.id) : [];
}

// A unit whose record cannot be finished or abandoned is still settled: finished, its decisions
// are in the customers' items (a retry reads them as duplicate_event); abandoned, the record runs
// out with the invocation. Either way the ledger being down now must not undo what was done.
async function finish(ledger: Ledger, unit: Unit, outcomes: Outcome[], budget: RetryBudget): Promise<void> {
  await ledger.units.finish(unitKey(unit), outcomes, budget).catch((error: unknown) => {
    logger.warn('unit not recorded as applied', { code: asUntagError(error).code, event: shownEvent(unit.event) });
  });
}

async function abandon(ledger: Ledger | undefined, unit: Unit, budget: RetryBudget): Promise<void> {
  await ledger?.units.abandon(unitKey(unit), budget).catch((error: unknown) => {
    logger.warn('unit record not released', { code: asUntagError(error).code, event: shownEvent(unit.event) });
  });
}
