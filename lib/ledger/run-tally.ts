/**
 * What one invocation finished of a backfill run, counted by rule, status and reason, as the run's
 * ledger item keeps it (./runs.ts adds a tally to the item). Apart from the DynamoDB code so that
 * the worker counts without loading it.
 */
import type { OutcomeStatus } from '../types';

/** One kind of job outcome in a run: its rule, status and reason (skipped and failed ones have one). */
export interface RunOutcome {
  rule: string;
  status: OutcomeStatus;
  reason?: string;
}

export const OUTCOME = 'o:';
export const FAILURE = 'f:';
const MAX_DETAIL_LENGTH = 500;

const outcomeAttribute = (rule: string, status: OutcomeStatus, reason?: string) =>
  `${OUTCOME}${JSON.stringify([rule, status, reason ?? ''])}`;
const failureAttribute = (rule: string, reason: string) => `${FAILURE}${JSON.stringify([rule, reason])}`;

/** What one invocation finished of one run, to be added to its counts. */
export class RunTally {
  units = 0;
  readonly outcomes = new Map<string, number>();
  readonly failures = new Map<string, string>();

  outcome({ rule, status, reason }: RunOutcome): void {
    const key = outcomeAttribute(rule, status, reason);
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
  }

  failure(rule: string, reason: string, detail: string): void {
    const key = failureAttribute(rule, reason);
    if (!this.failures.has(key)) this.failures.set(key, detail.slice(0, MAX_DETAIL_LENGTH));
  }
}
