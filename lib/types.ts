import type { UntagError } from './errors';

/** The shapes that flow through the pipeline: trigger -> payload -> Job[] -> Unit[] -> Outcome[]. */

/**
 * How a rule names the customer, already read from the payload and validated: a reference
 * HelpCrunch understands, or the sender's own id for a lookup (rules.yml `lookups`) to resolve.
 */
export type CustomerRef =
  | { by: 'helpcrunchId'; value: number }
  | { by: 'email'; value: string }
  | { by: 'userId'; value: string }
  | { by: 'lookup'; lookup: string; value: string };

/** One rule matched one payload: change these tags of the customer `customer` points to. */
export interface Job {
  rule: string;
  customer: CustomerRef;
  removeTags: string[];
  addTags: string[];
}

/**
 * Which event a job came from and when it occurred: what decides between two events about one
 * customer's tag (newer wins) and what makes a second delivery a duplicate. `id` is the sender's
 * (a source's `eventId`, EventBridge's `id`), else a digest of the source and the body;
 * `occurredAt` (ms since the epoch) the sender's (`occurredAt`, EventBridge's `time`), else when
 * the event was received.
 */
export interface EventRef {
  source: string;
  id: string;
  occurredAt: number;
}

/**
 * One event's jobs for one customer reference: what is deduplicated, sent as one queue message,
 * and applied in one go per customer (one DELETE, one PUT), so conflicting rules meet in both modes.
 */
export interface Unit {
  event: EventRef;
  customer: CustomerRef;
  jobs: Job[];
}

/**
 * untagged: the rule removed tags (and maybe added some); tagged: it only added. In a dry run
 * (DRY_RUN) nothing is sent to HelpCrunch and these read would_untag / would_tag.
 */
export type OutcomeStatus = 'untagged' | 'tagged' | 'would_untag' | 'would_tag' | 'skipped' | 'failed';

/** What happened to one job for one resolved customer. */
export interface Outcome {
  rule: string;
  /** null when the customer could not be resolved (not found, or the lookup or search failed). */
  customerId: number | null;
  /** The tags this rule actually removed from this customer (would remove, in a dry run). */
  removed: string[];
  /** The tags this rule actually added (would add, in a dry run). */
  added: string[];
  status: OutcomeStatus;
  /**
   * skipped: customer_not_found, lookup_not_found, tags_absent, tags_present, tags_unchanged,
   * conflicting_rules, stale_event or duplicate_event; failed: the error code. On a change,
   * conflicting_rules or stale_event says some of the rule's tags were left alone: another rule
   * removes what it adds (or adds what it removes), or a newer event already decided them.
   */
  reason?: string;
  /** The event the job came from: its id and when it occurred (ISO 8601). */
  event: { source: string; id: string; occurredAt: string };
  /** stale_event: the newer event that had decided the tags left alone. */
  newerEvent?: { source: string; id: string; occurredAt: string };
  /** HTTP requests spent on this job's customer: lookups, searches, the DELETE and the PUT, retries included. */
  requests: number;
  ms: number;
}

/** The HTTP requests of one run, each counted once (an outcome counts its customer's requests, shared with other jobs). */
export interface RequestCounts {
  helpcrunch: number;
  lookups: number;
}

export interface PipelineResult {
  outcomes: Outcome[];
  /** The most severe failure among the outcomes, for the adapter to turn into its reply. */
  failure?: UntagError;
  /** The lookup that failed with `failure`, when it was a lookup's: every other job may still succeed. */
  failedLookup?: string;
  requests: RequestCounts;
}
