/** Where the units of one event go: what the service hands them to, and what it gets back. */
import type { RetryBudget } from '../http/retry';
import type { PipelineResult, Unit } from '../types';

export type DispatchResult = ({ dispatch: 'inline' } & PipelineResult) | { dispatch: 'queue'; queued: number };

/** Runs or hands off the units of one request or event. Throws only for failures of the hand-off itself. */
export type Dispatch = (units: Unit[], budget: RetryBudget) => Promise<DispatchResult>;
