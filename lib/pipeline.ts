/**
 * Jobs -> outcomes: resolve each distinct customer reference once, merge every tag the matched
 * rules remove from one customer into ONE DELETE, and skip calls that cannot change anything.
 * Knows nothing about the trigger that produced the jobs.
 */
import { asUntagError, ConfigError, type UntagError } from './errors';
import { tagNames, type HelpCrunchClient, type HelpCrunchCustomer } from './helpcrunch/client';
import type { RetryBudget } from './retry';
import type { CustomerRef, Job, Outcome } from './types';

export interface PipelineResult {
  outcomes: Outcome[];
  /** The most severe failure among the outcomes, for the adapter to turn into its reply. */
  failure?: UntagError;
}

/** A customer as far as we know it: tag names are known only when a search returned them. */
interface ResolvedCustomer {
  id: number;
  tagNames?: Set<string>;
}

type Resolution =
  | { ok: true; customers: ResolvedCustomer[]; attempts: number }
  | { ok: false; error: UntagError; attempts: number };

interface CustomerWork {
  customer: ResolvedCustomer;
  jobs: Job[];
  /** The references (refKey) that resolved to this customer: their searches count towards its attempts. */
  refs: Set<string>;
}

const refKey = (ref: CustomerRef): string => `${ref.by}:${ref.value}`;

// ConfigError first: nothing will work until an operator acts; then retryable (the sender
// should come back); a bad event last, since retrying it can never help.
const severity = (error: UntagError): number => (error.status === 500 ? 3 : error.retryable ? 2 : 1);

export async function executeJobs(
  jobs: Job[],
  helpcrunch: HelpCrunchClient,
  budget: RetryBudget,
): Promise<PipelineResult> {
  const outcomes: Outcome[] = [];
  let failure: UntagError | undefined;
  const fail = (job: Job, customerId: number | null, error: UntagError, attempts: number, startedAt: number) => {
    if (!failure || severity(error) > severity(failure)) failure = error;
    outcomes.push({ rule: job.rule, customerId, tags: job.removeTags, status: 'failed', reason: error.code, attempts, ms: Date.now() - startedAt });
  };

  const startedAt = Date.now();
  const resolutions = new Map<string, Resolution>();
  for (const job of jobs) {
    const key = refKey(job.customer);
    if (!resolutions.has(key)) resolutions.set(key, await resolveCustomer(job.customer, helpcrunch, budget));
  }

  // Group by resolved customer id, so rules that reach one person by id and by email still share a call.
  const work = new Map<number, CustomerWork>();
  for (const job of jobs) {
    const resolution = resolutions.get(refKey(job.customer))!;
    if (!resolution.ok) {
      fail(job, null, resolution.error, resolution.attempts, startedAt);
      continue;
    }
    if (resolution.customers.length === 0) {
      outcomes.push({ rule: job.rule, customerId: null, tags: job.removeTags, status: 'skipped', reason: 'customer_not_found', attempts: resolution.attempts, ms: Date.now() - startedAt });
      continue;
    }
    for (const customer of resolution.customers) {
      const entry = work.get(customer.id) ?? { customer, jobs: [], refs: new Set<string>() };
      entry.customer.tagNames ??= customer.tagNames;
      entry.jobs.push(job);
      entry.refs.add(refKey(job.customer));
      work.set(customer.id, entry);
    }
  }

  for (const { customer, jobs: customerJobs, refs } of work.values()) {
    const callStartedAt = Date.now();
    const searchAttempts = [...refs].reduce((sum, key) => sum + resolutions.get(key)!.attempts, 0);
    const carries = (tag: string) => customer.tagNames === undefined || customer.tagNames.has(tag);
    const tags = [...new Set(customerJobs.flatMap((job) => job.removeTags))].filter(carries);
    const outcome = (job: Job, status: Outcome['status'], attempts: number, reason?: string): Outcome => ({
      rule: job.rule,
      customerId: customer.id,
      tags: job.removeTags,
      status,
      ...(reason ? { reason } : {}),
      attempts,
      ms: Date.now() - callStartedAt,
    });
    if (tags.length === 0) {
      for (const job of customerJobs) outcomes.push(outcome(job, 'skipped', searchAttempts, 'tags_absent'));
      continue;
    }
    try {
      const { found, attempts } = await helpcrunch.untagCustomer(customer.id, tags, { budget });
      for (const job of customerJobs) {
        if (!found) outcomes.push(outcome(job, 'skipped', searchAttempts + attempts, 'customer_not_found'));
        else if (!job.removeTags.some(carries)) outcomes.push(outcome(job, 'skipped', searchAttempts + attempts, 'tags_absent'));
        else outcomes.push(outcome(job, 'untagged', searchAttempts + attempts));
      }
    } catch (error) {
      const untagError = asUntagError(error);
      const attempts = searchAttempts + ((error as { attempts?: number }).attempts ?? 1);
      for (const job of customerJobs) fail(job, customer.id, untagError, attempts, callStartedAt);
    }
  }
  return { outcomes, failure };
}

/** id -> that customer; email/userId -> every customer the search returns, with their tags. */
async function resolveCustomer(ref: CustomerRef, helpcrunch: HelpCrunchClient, budget: RetryBudget): Promise<Resolution> {
  if (ref.by === 'helpcrunchId') return { ok: true, customers: [{ id: ref.value }], attempts: 0 };
  if (ref.by === 'lookup') return { ok: false, error: new ConfigError(`Lookup '${ref.lookup}' cannot run yet`, 'lookup_unavailable'), attempts: 0 };
  try {
    const { customers, attempts } = await helpcrunch.searchCustomers(ref.by, ref.value, { budget });
    return { ok: true, customers: customers.map(toResolved), attempts };
  } catch (error) {
    return { ok: false, error: asUntagError(error), attempts: (error as { attempts?: number }).attempts ?? 1 };
  }
}

function toResolved(customer: HelpCrunchCustomer): ResolvedCustomer {
  return { id: customer.id, tagNames: tagNames(customer) };
}
