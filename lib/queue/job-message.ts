/**
 * The body of one jobs-queue message: one unit (an event's jobs for one customer reference) plus
 * how often it has been tried. Bodies outlive deployments (a message may wait 14 days in the
 * dead-letter queue), so they carry a version, are checked field by field when read, and older
 * versions (one job each, without the event's time) stay readable. A backfill's messages
 * (scripts/backfill.ts) are live traffic's plus the run they belong to and, for a dry run, `dryRun`.
 */
import { customerIdProblem, textReferenceProblem } from '../customer-refs';
import { BadEventError } from '../errors';
import { isRecord } from '../json';
import type { CustomerRef, EventRef, Job, Unit } from '../types';

/**
 * The backfill run a message belongs to: the worker that finishes it counts it under the run's id
 * (lib/ledger/runs.ts), and the backfill worker paces itself at `share` of the account's rate.
 */
export interface JobRun {
  id: string;
  /** The share of HelpCrunch's rate the run may use, RATE_SHARE_LIMITS.min to max. */
  share: number;
}

/** What a backfill adds to a message: its run, and whether the unit runs dry (no ledger, no writes). */
export interface BackfillTag {
  run: JobRun;
  dryRun: boolean;
}

/**
 * The least and largest share a backfill may take: below or above, one side's tokens come so
 * seldom that a job (a search, a delete and a put) no longer fits in an invocation.
 */
export const RATE_SHARE_LIMITS = { min: 0.1, max: 0.9 } as const;

/** A share a backfill may take: RATE_SHARE_LIMITS.min to max (NaN is none). */
export const isRateShare = (share: number): boolean => share >= RATE_SHARE_LIMITS.min && share <= RATE_SHARE_LIMITS.max;

export interface JobMessage {
  v: 3;
  event: EventRef;
  customer: CustomerRef;
  jobs: { rule: string; removeTags: string[]; addTags: string[] }[];
  /** Attempts made before this message was (re)sent: 0 when first enqueued, more after a redrive. */
  attempt: number;
  /** A backfill's message: the run it belongs to. */
  run?: JobRun;
  /** A dry run's message: the worker sends no DELETE or PUT and neither reads nor writes the ledger. */
  dryRun?: true;
}

/** A run id as messages carry it: letters, digits and dashes, as randomUUID() makes them. */
const RUN_ID = /^[A-Za-z0-9-]{1,64}$/;

export function jobMessage(unit: Unit, attempt = 0, backfill?: BackfillTag): JobMessage {
  const { event, customer, jobs } = unit;
  return {
    v: 3,
    event,
    customer,
    jobs: jobs.map(({ rule, removeTags, addTags }) => ({ rule, removeTags, addTags })),
    attempt,
    ...(backfill && { run: { ...backfill.run } }),
    ...(backfill?.dryRun && { dryRun: true as const }),
  };
}

export function unitOf({ event, customer, jobs }: JobMessage): Unit {
  return { event, customer, jobs: jobs.map((job): Job => ({ ...job, customer })) };
}

const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';
const isTagList = (value: unknown): value is string[] => Array.isArray(value) && value.every(isText);

/** A customer reference as written by this version (helpcrunchId, lookup) or version 1 (id). */
function customerRef(value: unknown): CustomerRef | undefined {
  const {
    by,
    value: ref,
    lookup,
  } = (isRecord(value) ? value : {}) as { by?: unknown; value?: unknown; lookup?: unknown };
  if (by === 'helpcrunchId' || by === 'id') {
    return typeof ref === 'number' && !customerIdProblem(ref) ? { by: 'helpcrunchId', value: ref } : undefined;
  }
  if (!isText(ref) || textReferenceProblem(ref, by as CustomerRef['by'])) return undefined;
  if (by === 'lookup') return isText(lookup) ? { by, lookup, value: ref } : undefined;
  return by === 'email' || by === 'userId' ? { by, value: ref } : undefined;
}

function jobsOf(message: Record<string, unknown>): JobMessage['jobs'] | undefined {
  // Versions 1 and 2 held one job at the top level; version 1 only removed tags, under `tags`.
  const raw =
    message.v === 3
      ? message.jobs
      : [message.v === 1 ? { ...message, removeTags: message.tags, addTags: [] } : message];
  if (!Array.isArray(raw) || raw.length === 0) return undefined;
  const jobs: JobMessage['jobs'] = [];
  for (const job of raw) {
    const { rule, removeTags, addTags } = (isRecord(job) ? job : {}) as Record<string, unknown>;
    if (!isText(rule) || !isTagList(removeTags) || !isTagList(addTags) || removeTags.length + addTags.length === 0)
      return undefined;
    jobs.push({ rule, removeTags, addTags });
  }
  return jobs;
}

/**
 * The message in `body`, or BadEventError invalid_message naming the first thing wrong with it.
 * `sentAt` (the message's SentTimestamp) stands in for the time of events sent before versions said it.
 */
export function parseJobMessage(body: string, sentAt: number): JobMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw invalid('body is not JSON');
  }
  if (!isRecord(value)) throw invalid('body is not a JSON object');
  const message = value;
  // The version is named only when it is a plain number: a message body never echoes what it holds.
  if (message.v !== 1 && message.v !== 2 && message.v !== 3) {
    throw invalid(`unsupported version ${Number.isSafeInteger(message.v) ? message.v : typeof message.v}`);
  }
  const event =
    message.v === 3
      ? eventOf(message.event)
      : eventOf({ source: message.source, id: message.eventId, occurredAt: sentAt });
  if (!event) throw invalid('event must be {source, id, occurredAt} (a non-empty source and id, a time in ms)');
  const customer = customerRef(message.customer);
  if (!customer) throw invalid('customer must be {by: helpcrunchId|email|userId|lookup, value}');
  const jobs = jobsOf(message);
  if (!jobs) throw invalid('jobs must each have a rule and lists of tags to remove and add, not both empty');
  if (!Number.isSafeInteger(message.attempt) || (message.attempt as number) < 0) {
    throw invalid('attempt must be an integer >= 0');
  }
  const run = message.run === undefined ? undefined : runOf(message.run);
  if (message.run !== undefined && !run)
    throw invalid(
      `run must be {id, share} (an id of letters, digits and dashes, a share from ${RATE_SHARE_LIMITS.min} to ${RATE_SHARE_LIMITS.max})`,
    );
  if (message.dryRun !== undefined && message.dryRun !== true) throw invalid('dryRun must be true when present');
  return {
    v: 3,
    event,
    customer,
    jobs,
    attempt: message.attempt as number,
    ...(run && { run }),
    ...(message.dryRun === true && { dryRun: true as const }),
  };
}

function runOf(value: unknown): JobRun | undefined {
  const { id, share } = (isRecord(value) ? value : {}) as Record<string, unknown>;
  if (typeof id !== 'string' || !RUN_ID.test(id) || typeof share !== 'number') return undefined;
  return isRateShare(share) ? { id, share } : undefined;
}

function eventOf(value: unknown): EventRef | undefined {
  const { source, id, occurredAt } = (isRecord(value) ? value : {}) as Record<string, unknown>;
  if (!isText(source) || !isText(id) || !Number.isSafeInteger(occurredAt) || (occurredAt as number) < 0)
    return undefined;
  return { source, id, occurredAt: occurredAt as number };
}

function invalid(reason: string): BadEventError {
  return new BadEventError('invalid_message', `Invalid job message: ${reason}`);
}
