/**
 * Powertools singletons, one per container. Nothing here ever receives a secret: callers log
 * outcomes and error codes, never headers, keys or raw bodies.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Explanation } from './rules/match';
import type { Outcome, OutcomeStatus } from './types';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'helpcrunch-untag';

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'HelpCrunchUntag',
});

const outcomeMetric: Record<OutcomeStatus, string> = {
  untagged: 'JobsUntagged',
  skipped: 'JobsSkipped',
  failed: 'JobsFailed',
};

/** One log line per job outcome, and the per-outcome counts as EMF metrics. */
export function recordOutcomes(outcomes: Outcome[]): void {
  const counts: Record<OutcomeStatus, number> = { untagged: 0, skipped: 0, failed: 0 };
  let attempts = 0;
  for (const outcome of outcomes) {
    counts[outcome.status] += 1;
    attempts += outcome.attempts;
    const log = outcome.status === 'failed' ? logger.warn.bind(logger) : logger.info.bind(logger);
    log(`job ${outcome.status}`, { job: outcome });
  }
  for (const status of Object.keys(counts) as OutcomeStatus[]) {
    if (counts[status] > 0) metrics.addMetric(outcomeMetric[status], MetricUnit.Count, counts[status]);
  }
  if (attempts > 0) metrics.addMetric('HelpCrunchRequests', MetricUnit.Count, attempts);
}

/**
 * An event no rule matched leaves a trace: one INFO line with its source and event type, and at
 * DEBUG each rule's reason (the check that failed, the value `when` gave).
 */
export function recordUnmatched(explanations: Explanation[]): void {
  const [first] = explanations;
  if (!first) return;
  const eventTypes = [...new Set(explanations.map((explanation) => explanation.eventType))];
  logger.info('no rule matched', { source: first.source, eventType: eventTypes.length === 1 ? eventTypes[0] : eventTypes });
  if (logger.getLevelName() === 'DEBUG' || logger.getLevelName() === 'TRACE') {
    logger.debug('rule reasons', { rules: explanations.flatMap((explanation) => explanation.rules) });
  }
}
