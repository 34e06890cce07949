/** Logs and EMF metrics for the queue path: what was enqueued, and how each message settled. */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger, metrics, recordOutcomes } from '../observability';
import type { MessageAction, MessageResult } from './worker';

const actionMetric: Record<MessageAction, string> = {
  done: 'MessagesDone',
  retry: 'MessagesRetried',
  'dead-letter': 'MessagesDeadLettered',
  deferred: 'MessagesDeferred',
  held: 'MessagesHeld',
};

export function recordQueued(queued: number): void {
  logger.info('jobs queued', { queued });
  if (queued > 0) metrics.addMetric('JobsQueued', MetricUnit.Count, queued);
}

/** One log line per message (job outcomes, then how it settled), and per-action counts. */
export function recordMessageResults(results: MessageResult[]): void {
  const counts = new Map<MessageAction, number>();
  for (const { outcomes, requests, error, queueError, ...result } of results) {
    if (requests) recordOutcomes(outcomes, requests);
    counts.set(result.action, (counts.get(result.action) ?? 0) + 1);
    const fields = {
      // `message` is Powertools' own key for the log text.
      sqsMessage: result,
      ...(error && { code: error.code, reason: error.message, detail: error.detail }),
      ...(queueError && { queueError: `${queueError.code}: ${queueError.message}` }),
    };
    if (result.action === 'done') logger.info('message done', fields);
    else logger.warn(`message ${result.action}`, fields);
  }
  for (const [action, count] of counts) metrics.addMetric(actionMetric[action], MetricUnit.Count, count);
}
