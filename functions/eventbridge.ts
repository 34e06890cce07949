/**
 * EventBridge rule target: resolves with the results (inline) or `{queued: N}` (queue); rejects,
 * so Lambda retries and then the on-failure dead-letter queue, on any failure.
 */
import type { Context } from 'aws-lambda';
import { parseBusEvent } from '../lib/triggers/bus-event';
import { asUntagError, EventRejectedError } from '../lib/errors';
import { resultsBody } from '../lib/triggers/http-response';
import { logger, observed, recordOutcomes } from '../lib/observability';
import { recordQueued } from '../lib/queue/observability';
import { RetryBudget } from '../lib/http/retry';
import { bundledRules } from '../lib/rules/bundled';
import { firstRequestUrls, inlineSecretIds, lazyRuntime, startInit } from '../lib/runtime';

const runtime = lazyRuntime(bundledRules);
startInit(runtime, { secretIds: inlineSecretIds(bundledRules), urls: firstRequestUrls });

async function eventbridge(event: unknown, context: Context) {
  logger.setCorrelationId(context.awsRequestId);
  try {
    const busEvent = parseBusEvent(event);
    logger.setCorrelationId(busEvent.id);
    logger.appendKeys({ source: busEvent.source, detailType: busEvent.detailType });
    const { config, service } = runtime();
    const result = await service.handleEvent(busEvent, RetryBudget.fromContext(context, config.safetyMarginMs));
    if (result.dispatch === 'queue') {
      recordQueued(result.queued);
      return { queued: result.queued };
    }
    recordOutcomes(result.outcomes, result.requests);
    if (result.failure) throw result.failure;
    return resultsBody(result.outcomes);
  } catch (error) {
    const cause = asUntagError(error);
    if (cause !== error) logger.error('unexpected error', error as Error);
    const rejected = new EventRejectedError(cause);
    logger.error('event rejected', {
      code: cause.code,
      retryable: cause.retryable,
      reason: rejected.message,
      detail: cause.detail,
    });
    throw rejected;
  }
}

export const handler = observed(eventbridge);
