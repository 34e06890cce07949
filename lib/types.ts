/** The shapes that flow through the pipeline: trigger -> payload -> Job[] -> Outcome[]. */

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

export type OutcomeStatus = 'untagged' | 'skipped' | 'failed';

/** What happened to one job for one resolved customer. */
export interface Outcome {
  rule: string;
  /** null when the customer could not be resolved (not found by email/userId). */
  customerId: number | null;
  tags: string[];
  status: OutcomeStatus;
  /** Why a job was skipped or failed: customer_not_found, tags_absent, or an error code. */
  reason?: string;
  /** HelpCrunch requests spent on this job's customer (search + delete, retries included). */
  attempts: number;
  ms: number;
}
