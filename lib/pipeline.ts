/**
 * Jobs -> outcomes. Each distinct lookup reference is resolved once through the sender's API, and
 * each distinct HelpCrunch reference once (an id as is, an email or userId by search). Then per
 * customer: ONE DELETE with every tag the matched rules remove, and after it ONE PUT with every tag
 * they add, each left out when the search shows it would change nothing. A tag that one rule
 * removes and another adds in the same event is left alone (conflicting_rules). In a dry run
 * everything runs but the DELETE and the PUT. Knows nothing about the trigger that produced the jobs.
 */
import { asUntagError, UntagError } from './errors';
import { tagNames, type HelpCrunchClient } from './helpcrunch/client';
import type { DirectRef, LookupResolver } from './lookups/resolver';
import type { RetryBudget } from './http/retry';
import type { CustomerRef, Job, Outcome, OutcomeStatus, PipelineResult, RequestCounts } from './types';

export interface PipelineDeps {
  helpcrunch: HelpCrunchClient;
  lookups: LookupResolver;
  /** Send no DELETE and no PUT: outcomes say what would have changed (would_untag / would_tag). */
  dryRun: boolean;
}

type LookupRef = Extract<CustomerRef, { by: 'lookup' }>;

/** A customer as far as we know it: tag names are known only when a search returned them. */
interface ResolvedCustomer {
  id: number;
  tagNames?: Set<string>;
}

type Resolution<T> = { ok: true; value: T; requests: number } | { ok: false; error: UntagError; requests: number };

interface CustomerWork {
  customer: ResolvedCustomer;
  jobs: Job[];
  /** The lookups and references that led to this customer: their requests count towards its outcomes. */
  keys: Set<string>;
}

const refKey = (ref: DirectRef): string => `${ref.by}:${ref.value}`;
// A lookup's name and the sender's id, apart: neither can run into the other.
const lookupKey = (ref: LookupRef): string => `lookup\u0000${ref.lookup}\u0000${ref.value}`;
const requestsOf = (error: unknown): number => (error instanceof UntagError ? (error.requests ?? 0) : 0);

// ConfigError first: nothing will work until an operator acts; then retryable (the sender
// should come back); a bad event last, since retrying it can never help.
const severity = (error: UntagError): number => (error.status === 500 ? 3 : error.retryable ? 2 : 1);

export async function executeJobs(jobs: Job[], deps: PipelineDeps, budget: RetryBudget): Promise<PipelineResult> {
  const { helpcrunch, lookups } = deps;
  const startedAt = Date.now();
  const outcomes: Outcome[] = [];
  const requests: RequestCounts = { helpcrunch: 0, lookups: 0 };
  let worst: { error: UntagError; lookup?: string } | undefined;
  const fail = (
    job: Job,
    customerId: number | null,
    error: UntagError,
    spent: number,
    since: number,
    lookup?: string,
  ) => {
    if (!worst || severity(error) > severity(worst.error)) worst = { error, lookup };
    outcomes.push({
      rule: job.rule,
      customerId,
      removed: [],
      added: [],
      status: 'failed',
      reason: error.code,
      requests: spent,
      ms: Date.now() - since,
    });
  };
  const skip = (job: Job, reason: string, spent: number) =>
    outcomes.push({
      rule: job.rule,
      customerId: null,
      removed: [],
      added: [],
      status: 'skipped',
      reason,
      requests: spent,
      ms: Date.now() - startedAt,
    });

  const resolvedLookups = new Map<string, Resolution<DirectRef[]>>();
  for (const { customer } of jobs) {
    if (customer.by !== 'lookup' || resolvedLookups.has(lookupKey(customer))) continue;
    const resolution = await lookUp(customer, lookups, budget);
    resolvedLookups.set(lookupKey(customer), resolution);
    requests.lookups += resolution.requests;
  }
  const refsOf = (job: Job): Resolution<DirectRef[]> =>
    job.customer.by === 'lookup'
      ? resolvedLookups.get(lookupKey(job.customer))!
      : { ok: true, value: [job.customer], requests: 0 };

  const searches = new Map<string, Resolution<ResolvedCustomer[]>>();
  for (const job of jobs) {
    const refs = refsOf(job);
    for (const ref of refs.ok ? refs.value : []) {
      if (searches.has(refKey(ref))) continue;
      const resolution = await resolveRef(ref, helpcrunch, budget);
      searches.set(refKey(ref), resolution);
      requests.helpcrunch += resolution.requests;
    }
  }
  const spentOn = (keys: Iterable<string>) =>
    [...keys].reduce((sum, key) => sum + (resolvedLookups.get(key) ?? searches.get(key))!.requests, 0);

  // Group by resolved customer id, so rules that reach one person by id, email and lookup still share the calls.
  const work = new Map<number, CustomerWork>();
  for (const job of jobs) {
    const refs = refsOf(job);
    const keys = job.customer.by === 'lookup' ? [lookupKey(job.customer)] : [];
    if (!refs.ok) {
      fail(
        job,
        null,
        refs.error,
        refs.requests,
        startedAt,
        job.customer.by === 'lookup' ? job.customer.lookup : undefined,
      );
      continue;
    }
    if (refs.value.length === 0) {
      skip(job, 'lookup_not_found', refs.requests);
      continue;
    }
    keys.push(...refs.value.map(refKey));
    const resolutions = refs.value.map((ref) => searches.get(refKey(ref))!);
    // A job changes all the customers it names, or none: a failed search fails it whole.
    const failed = resolutions.find((resolution) => !resolution.ok);
    if (failed && !failed.ok) {
      fail(job, null, failed.error, spentOn(keys), startedAt);
      continue;
    }
    const customers = resolutions.flatMap((resolution) => (resolution.ok ? resolution.value : []));
    if (customers.length === 0) {
      skip(job, 'customer_not_found', spentOn(keys));
      continue;
    }
    for (const customer of customers) {
      const entry = work.get(customer.id) ?? { customer, jobs: [], keys: new Set<string>() };
      entry.customer.tagNames ??= customer.tagNames;
      if (!entry.jobs.includes(job)) entry.jobs.push(job);
      for (const key of keys) entry.keys.add(key);
      work.set(customer.id, entry);
    }
  }

  for (const { customer, jobs: customerJobs, keys } of work.values()) {
    const since = Date.now();
    const change = await changeTags(customer, customerJobs, deps, budget);
    requests.helpcrunch += change.requests;
    const spent = spentOn(keys) + change.requests;
    for (const job of customerJobs) {
      const outcome = change.outcome(job);
      if ('error' in outcome) fail(job, customer.id, outcome.error, spent, since);
      else
        outcomes.push({ rule: job.rule, customerId: customer.id, ...outcome, requests: spent, ms: Date.now() - since });
    }
  }
  return {
    outcomes,
    ...(worst && { failure: worst.error, ...(worst.lookup && { failedLookup: worst.lookup }) }),
    requests,
  };
}

type JobResult = Pick<Outcome, 'removed' | 'added' | 'status' | 'reason'> | { error: UntagError };

/** How one write went: done, the customer is gone (HelpCrunch's not_found), or failed. */
type WriteResult = { done: boolean; gone: boolean; error?: UntagError; requests: number };

const notSent: WriteResult = { done: false, gone: false, requests: 0 };

async function write(
  method: 'untagCustomer' | 'tagCustomer',
  customerId: number,
  tags: Set<string>,
  { helpcrunch, dryRun }: PipelineDeps,
  budget: RetryBudget,
): Promise<WriteResult> {
  if (tags.size === 0) return notSent;
  if (dryRun) return { done: true, gone: false, requests: 0 };
  try {
    const { found, requests } = await helpcrunch[method](customerId, [...tags], { budget });
    return { done: found, gone: !found, requests };
  } catch (error) {
    return { done: false, gone: false, error: asUntagError(error), requests: requestsOf(error) || 1 };
  }
}

/**
 * One customer's DELETE, then its PUT, for all its jobs; `outcome` says what each job got. A failed
 * DELETE fails every job (the PUT is then not sent); a failed PUT only the jobs that add.
 */
async function changeTags(customer: ResolvedCustomer, jobs: Job[], deps: PipelineDeps, budget: RetryBudget) {
  const removing = new Set(jobs.flatMap((job) => job.removeTags));
  const adding = new Set(jobs.flatMap((job) => job.addTags));
  const conflicting = new Set([...removing].filter((tag) => adding.has(tag)));
  const known = customer.tagNames;
  // Without a search's answer (a customer named by id) every tag is sent: both calls are idempotent.
  const toRemove = new Set(
    [...removing].filter((tag) => !conflicting.has(tag) && (known === undefined || known.has(tag))),
  );
  const toAdd = new Set([...adding].filter((tag) => !conflicting.has(tag) && !known?.has(tag)));

  const deleted = await write('untagCustomer', customer.id, toRemove, deps, budget);
  const put = deleted.gone || deleted.error ? notSent : await write('tagCustomer', customer.id, toAdd, deps, budget);

  const status = (removed: string[]): OutcomeStatus => {
    if (deps.dryRun) return removed.length > 0 ? 'would_untag' : 'would_tag';
    return removed.length > 0 ? 'untagged' : 'tagged';
  };
  function outcome(job: Job): JobResult {
    const adds = job.addTags.some((tag) => toAdd.has(tag));
    const error = deleted.error ?? (adds ? put.error : undefined);
    if (error) return { error };
    const removed = deleted.done ? job.removeTags.filter((tag) => toRemove.has(tag)) : [];
    const added = put.done ? job.addTags.filter((tag) => toAdd.has(tag)) : [];
    const conflicted = [...job.removeTags, ...job.addTags].some((tag) => conflicting.has(tag));
    if (removed.length > 0 || added.length > 0)
      return { removed, added, status: status(removed), ...(conflicted && { reason: 'conflicting_rules' }) };
    return {
      removed,
      added,
      status: 'skipped',
      reason: skipReason(job, deleted.gone || (put.gone && adds), conflicted),
    };
  }
  return { requests: deleted.requests + put.requests, outcome };
}

function skipReason(job: Job, customerGone: boolean, conflicted: boolean): string {
  if (customerGone) return 'customer_not_found';
  if (conflicted) return 'conflicting_rules';
  if (job.removeTags.length > 0 && job.addTags.length > 0) return 'tags_unchanged';
  return job.removeTags.length > 0 ? 'tags_absent' : 'tags_present';
}

/** A lookup reference -> the HelpCrunch references the sender's API knows for it. */
async function lookUp(ref: LookupRef, lookups: LookupResolver, budget: RetryBudget): Promise<Resolution<DirectRef[]>> {
  try {
    const { refs, requests } = await lookups.resolve(ref.lookup, ref.value, { budget });
    return { ok: true, value: refs, requests };
  } catch (error) {
    return { ok: false, error: asUntagError(error), requests: requestsOf(error) };
  }
}

/** id -> that customer; email/userId -> every customer the search returns, with their tags. */
async function resolveRef(
  ref: DirectRef,
  helpcrunch: HelpCrunchClient,
  budget: RetryBudget,
): Promise<Resolution<ResolvedCustomer[]>> {
  if (ref.by === 'helpcrunchId') return { ok: true, value: [{ id: ref.value }], requests: 0 };
  try {
    const { customers, requests } = await helpcrunch.searchCustomers(ref.by, ref.value, { budget });
    return {
      ok: true,
      value: customers.map((customer) => ({ id: customer.id, tagNames: tagNames(customer) })),
      requests,
    };
  } catch (error) {
    return { ok: false, error: asUntagError(error), requests: requestsOf(error) || 1 };
  }
}
