/**
 * One unit's change to one customer: under the customer's lease, each tag the unit's rules name is
 * checked against the event that last decided it (a newer one wins: this one is stale for that tag;
 * the same one: a duplicate), then ONE DELETE with every tag to remove and after it ONE PUT with
 * every tag to add, each left out when the search shows it would change nothing. A tag one rule
 * removes and another adds is left alone (conflicting_rules). The tags this event decided, changed
 * or already in place, are recorded as it gives the lease back. In a dry run there is no ledger
 * and no DELETE or PUT.
 */
import { asUntagError, RetryableError, UntagError } from '../errors';
import type { HelpCrunchClient } from '../helpcrunch/client';
import type { CustomerLease, CustomerLedger, LeaseResult } from '../ledger/customers';
import type { TagDecision } from '../ledger';
import type { RetryBudget } from '../http/retry';
import type { Job, Outcome, OutcomeStatus, Unit } from '../types';
import type { ResolvedCustomer } from './resolve';
import { shownEvent, unitDigest } from './units';

export interface ChangeDeps {
  helpcrunch: HelpCrunchClient;
  dryRun: boolean;
  /** Absent in a dry run. */
  customers?: CustomerLedger;
  /** How long to wait for another unit's lease on the same customer before giving up with customer_busy. */
  leaseWaitMs: number;
  sleep: (ms: number) => Promise<void>;
}

export type JobResult = Pick<Outcome, 'removed' | 'added' | 'status' | 'reason' | 'newerEvent'> | { error: UntagError };

export interface CustomerChange {
  requests: number;
  /**
   * Records the tags this event decided and gives the customer's lease back (nothing without a
   * ledger): the caller does, so that the unit's last one can overlap the unit's own record.
   * Resolves with why it failed, if it did: then every job's outcome is that failure.
   */
  release(budget: RetryBudget): Promise<UntagError | undefined>;
  /** What one job got; `released` is what release() resolved with. */
  outcome(job: Job, released: UntagError | undefined): JobResult;
  /** What the writes did to the customer's tags; unknown after a failed one. */
  tags: { removed: Set<string>; added: Set<string> } | 'unknown';
}

/** How one write went: done, the customer is gone (HelpCrunch's not_found), or failed. */
type WriteResult = { done: boolean; gone: boolean; error?: UntagError; requests: number };

const notSent: WriteResult = { done: false, gone: false, requests: 0 };

type Verdict = 'fresh' | 'stale' | 'duplicate';

async function write(
  method: 'untagCustomer' | 'tagCustomer',
  customerId: number,
  tags: Set<string>,
  { helpcrunch, dryRun }: ChangeDeps,
  budget: RetryBudget,
): Promise<WriteResult> {
  if (tags.size === 0) return notSent;
  if (dryRun) return { done: true, gone: false, requests: 0 };
  try {
    const { found, requests } = await helpcrunch[method](customerId, [...tags], { budget });
    return { done: found, gone: !found, requests };
  } catch (error) {
    const requests = error instanceof UntagError ? (error.requests ?? 1) : 1;
    return { done: false, gone: false, error: asUntagError(error), requests };
  }
}

/** The customer's lease, waiting a little for another holder; customer_busy (retryable) when it takes longer. */
async function lease(
  customerId: number,
  tags: string[],
  deps: ChangeDeps,
  budget: RetryBudget,
  early?: Promise<LeaseResult>,
): Promise<CustomerLease> {
  let waited = 0;
  for (let attempt = early; ; attempt = undefined) {
    const result = await (attempt ?? deps.customers!.acquire(customerId, tags, budget));
    if ('lease' in result) return result.lease;
    const wait = Math.min(result.busyForMs, 250);
    if (waited + wait > deps.leaseWaitMs || !budget.fits(wait, 1_000)) {
      throw new RetryableError(
        `HelpCrunch customer ${customerId} is being changed for another event`,
        result.busyForMs,
        'customer_busy',
      );
    }
    await deps.sleep(wait);
    waited += wait;
  }
}

/** The tags a unit's rules name: what its lease reads the decisions of. */
export const tagsOf = ({ jobs }: Pick<Unit, 'jobs'>): string[] => [
  ...new Set(jobs.flatMap((job) => [...job.removeTags, ...job.addTags])),
];

/** `early`: the customer's lease, asked for already (a customer named by id needs no search first). */
export async function changeCustomer(
  customer: ResolvedCustomer,
  unit: Unit,
  deps: ChangeDeps,
  budget: RetryBudget,
  early?: Promise<LeaseResult>,
): Promise<CustomerChange> {
  const { event, jobs } = unit;
  const removing = new Set(jobs.flatMap((job) => job.removeTags));
  const adding = new Set(jobs.flatMap((job) => job.addTags));
  const conflicting = new Set([...removing].filter((tag) => adding.has(tag)));
  const held = deps.customers ? await lease(customer.id, tagsOf(unit), deps, budget, early) : undefined;
  const decisions = held?.decisions ?? new Map<string, TagDecision>();
  const key = unitDigest(unit);
  const verdict = (tag: string): Verdict => {
    const decision = decisions.get(tag);
    if (!decision) return 'fresh';
    if (decision.unitKey === key) return 'duplicate';
    return decision.occurredAt > event.occurredAt ? 'stale' : 'fresh';
  };
  const open = (tag: string) => !conflicting.has(tag) && verdict(tag) === 'fresh';

  const known = customer.tagNames;
  // Without a search's answer (a customer named by id) every tag is sent: both calls are idempotent.
  const toRemove = new Set([...removing].filter((tag) => open(tag) && (known === undefined || known.has(tag))));
  const toAdd = new Set([...adding].filter((tag) => open(tag) && !known?.has(tag)));

  const deleted = await write('untagCustomer', customer.id, toRemove, deps, budget);
  const removalsDone = !deleted.error && !deleted.gone;
  const put = removalsDone ? await write('tagCustomer', customer.id, toAdd, deps, budget) : notSent;
  const additionsDone = removalsDone && !put.error && !put.gone;

  async function release(releaseBudget: RetryBudget): Promise<UntagError | undefined> {
    if (!held) return undefined;
    // Decided by this event: what it changed, and what was already as it says.
    const decision: TagDecision = {
      occurredAt: event.occurredAt,
      unitKey: key,
      eventId: event.id,
      source: event.source,
    };
    const decided = new Map<string, TagDecision>();
    for (const tag of removing) if (removalsDone && open(tag)) decided.set(tag, decision);
    for (const tag of adding) if (additionsDone && open(tag)) decided.set(tag, decision);
    try {
      await held.release(decided, releaseBudget);
      return undefined;
    } catch (error) {
      return asUntagError(error);
    }
  }

  const status = (removed: string[]): OutcomeStatus => {
    if (deps.dryRun) return removed.length > 0 ? 'would_untag' : 'would_tag';
    return removed.length > 0 ? 'untagged' : 'tagged';
  };
  /** The newest event that had decided any of these tags, for the stale job's log line. */
  const newerEvent = (tags: string[]) => {
    const newest = tags.map((tag) => decisions.get(tag)!).reduce((a, b) => (b.occurredAt > a.occurredAt ? b : a));
    return shownEvent({ source: newest.source, id: newest.eventId, occurredAt: newest.occurredAt });
  };

  function outcome(job: Job, released: UntagError | undefined): JobResult {
    const adds = job.addTags.some((tag) => toAdd.has(tag));
    const error = released ?? deleted.error ?? (adds ? put.error : undefined);
    if (error) return { error };
    const removed = deleted.done ? job.removeTags.filter((tag) => toRemove.has(tag)) : [];
    const added = put.done ? job.addTags.filter((tag) => toAdd.has(tag)) : [];
    const tags = [...job.removeTags, ...job.addTags].filter((tag) => !conflicting.has(tag));
    const conflicted = tags.length < job.removeTags.length + job.addTags.length;
    const stale = tags.filter((tag) => verdict(tag) === 'stale');
    const newer = stale.length > 0 ? { newerEvent: newerEvent(stale) } : {};
    if (removed.length > 0 || added.length > 0) {
      const reason = conflicted ? 'conflicting_rules' : stale.length > 0 ? 'stale_event' : undefined;
      return { removed, added, status: status(removed), ...(reason && { reason }), ...newer };
    }
    const gone = deleted.gone || (put.gone && adds);
    return {
      removed,
      added,
      status: 'skipped',
      reason: skipReason(job, { gone, conflicted, stale, tags, verdict }),
      ...newer,
    };
  }
  const tags =
    deleted.error || put.error
      ? 'unknown'
      : { removed: deleted.done ? toRemove : new Set<string>(), added: put.done ? toAdd : new Set<string>() };
  return { requests: deleted.requests + put.requests, release, outcome, tags };
}

function skipReason(
  job: Job,
  seen: { gone: boolean; conflicted: boolean; stale: string[]; tags: string[]; verdict: (tag: string) => Verdict },
): string {
  if (seen.gone) return 'customer_not_found';
  if (seen.conflicted) return 'conflicting_rules';
  if (seen.stale.length > 0) return 'stale_event';
  if (seen.tags.length > 0 && seen.tags.every((tag) => seen.verdict(tag) === 'duplicate')) return 'duplicate_event';
  if (job.removeTags.length > 0 && job.addTags.length > 0) return 'tags_unchanged';
  return job.removeTags.length > 0 ? 'tags_absent' : 'tags_present';
}
