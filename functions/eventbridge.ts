/**
 * EventBridge rule target: resolves with the results (inline) or `{queued: N}` (queue); rejects,
 * so Lambda retries and then the on-failure dead-letter queue, on any failure.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { asUntagError, EventRejectedError } from '../lib/errors';
import { resultsBody } from '../lib/http-response';
import { logger, metrics, recordOutcomes } from '../lib/observability';
import { recordQueued } from '../lib/queue/observability';
import { RetryBudget } from '../lib/retry';
import { bundledRules } from '../lib/rules/bundled';
import { lazyRuntime } from '../lib/runtime';

const runtime = lazyRuntime(bundledRules);

async function eventbridge(event: EventBridgeEvent<string, unknown>, context: Context) {
  logger.setCorrelationId(event.id);
  logger.appendKeys({ source: event.source, detailType: event['detail-type'] });
  try {
    const { config, service } = runtime();
    const budget = RetryBudget.fromContext(context, config.safetyMarginMs);
    const busEvent = { id: event.id, source: event.source, detailType: event['detail-type'], detail: event.detail };
    const result = await service.handleEvent(busEvent, budget);
    if (result.dispatch === 'queue') {
      recordQueued(result.queued);
      return { queued: result.queued };
    }
    recordOutcomes(result.outcomes);
    if (result.failure) throw result.failure;
    return resultsBody(result.outcomes);
  } catch (error) {
    const rejected = new EventRejectedError(asUntagError(error));
    logger.error('event rejected', { code: rejected.cause.code, retryable: rejected.cause.retryable, reason: rejected.message });
    throw rejected;
  }
}

export const handler = middy(eventbridge)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
