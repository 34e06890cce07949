/** Where the jobs of one event go: what the service hands them to, and what it gets back. */
import type { RetryBudget } from '../http/retry';
import type { Job, PipelineResult } from '../types';

/** The event a job was matched from: its id (webhook-id, request id or EventBridge id) and source. */
export interface JobOrigin {
  eventId: string;
  source: string;
}

export type DispatchResult = ({ dispatch: 'inline' } & PipelineResult) | { dispatch: 'queue'; queued: number };

/** Runs or hands off the jobs of one event. Throws only for failures of the hand-off itself. */
export type Dispatch = (jobs: Job[], origin: JobOrigin, budget: RetryBudget) => Promise<DispatchResult>;
