/**
 * Powertools Logger and Metrics, one each per container. Nothing here ever receives a secret:
 * callers log outcomes and error codes, never headers, keys or raw bodies.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Explanation } from './rules/match';
import type { Outcome, OutcomeStatus, RequestCounts } from './types';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'helpcrunch-untag';

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'HelpCrunchUntag',
});

const outcomeMetric: Record<OutcomeStatus, string> = {
  untagged: 'JobsUntagged',
  tagged: 'JobsTagged',
  would_untag: 'JobsWouldUntag',
  would_tag: 'JobsWouldTag',
  skipped: 'JobsSkipped',
  failed: 'JobsFailed',
};

// What the ordering held back: a delivery seen before, or an event older than what decided (some of) its tags.
const reasonMetric: Readonly<Record<string, string>> = { duplicate_event: 'JobsDuplicate', stale_event: 'JobsStale' };

/**
 * A function's handler with the logger's Lambda context (keys reset per invocation) and the
 * metrics flushed after it. Never logs the event, whatever POWERTOOLS_LOGGER_LOG_EVENT says:
 * webhooks carry signatures, tokens and credentials, events and job messages personal data.
 */
export function observed<Event, Result>(handler: (event: Event, context: Context) => Promise<Result>) {
  return middy(handler)
    .use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }))
    .use(logMetrics(metrics));
}

/**
 * A dry run (DRY_RUN=true) says so on every log line from now on (`"dryRun":true`) and in a
 * dimension of every metric (`dryRun: "true"`), so its counts never mix with real ones.
 */
export function markDryRun(): void {
  logger.appendPersistentKeys({ dryRun: true });
  metrics.setDefaultDimensions({ dryRun: 'true' });
}

/** One log line per job outcome, and EMF metrics: outcomes by status, and the requests made. */
export function recordOutcomes(outcomes: Outcome[], requests: RequestCounts): void {
  const counts = new Map<string, number>();
  const count = (metric: string) => counts.set(metric, (counts.get(metric) ?? 0) + 1);
  for (const outcome of outcomes) {
    count(outcomeMetric[outcome.status]);
    const held = outcome.reason && Object.hasOwn(reasonMetric, outcome.reason) && reasonMetric[outcome.reason];
    if (held) count(held);
    if (outcome.status === 'failed') logger.warn(`job ${outcome.status}`, { job: outcome });
    else logger.info(`job ${outcome.status}`, { job: outcome });
  }
  for (const [metric, n] of counts) metrics.addMetric(metric, MetricUnit.Count, n);
  if (requests.helpcrunch > 0) metrics.addMetric('HelpCrunchRequests', MetricUnit.Count, requests.helpcrunch);
  if (requests.lookups > 0) metrics.addMetric('LookupRequests', MetricUnit.Count, requests.lookups);
}

/**
 * An event no rule matched leaves a trace: one INFO line with its source and event type, and at
 * DEBUG each rule's reason (the check that failed, the value `when` gave).
 */
export function recordUnmatched(explanations: Explanation[]): void {
  const [first] = explanations;
  if (!first) return;
  const eventTypes = [...new Set(explanations.map((explanation) => explanation.eventType))];
  logger.info('no rule matched', {
    source: first.source,
    eventType: eventTypes.length === 1 ? eventTypes[0] : eventTypes,
  });
  if (logger.getLevelName() === 'DEBUG' || logger.getLevelName() === 'TRACE') {
    logger.debug('rule reasons', { rules: explanations.flatMap((explanation) => explanation.rules) });
  }
}
