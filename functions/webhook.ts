/** POST /webhooks/{source}: API Gateway HTTP API (2.0), REST API proxy (1.0) or Function URL. */
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { asUntagError } from '../lib/errors';
import { parseHttpEvent } from '../lib/triggers/http-event';
import { errorResponse, jsonResponse, resultsBody } from '../lib/triggers/http-response';
import { logger, observed, recordOutcomes } from '../lib/observability';
import { recordQueued } from '../lib/queue/observability';
import { RetryBudget } from '../lib/http/retry';
import { bundledRules } from '../lib/rules/bundled';
import { firstRequestUrls, inlineSecretIds, lazyRuntime, startInit } from '../lib/runtime';

const runtime = lazyRuntime(bundledRules);
startInit(runtime, {
  secretIds: (config) => [...bundledRules.signingSecretIds(), ...inlineSecretIds(bundledRules)(config)],
  urls: firstRequestUrls,
});

async function webhook(
  event: APIGatewayProxyEventV2 | APIGatewayProxyEvent,
  context: Context,
): Promise<APIGatewayProxyStructuredResultV2> {
  // The gateway's id until the request is verified: nothing an unverified caller sends reaches the logs' correlation id.
  logger.setCorrelationId(event?.requestContext?.requestId ?? context.awsRequestId);
  try {
    const { config, service } = runtime();
    const request = parseHttpEvent(event, { maxBodyBytes: config.maxBodyBytes });
    logger.appendKeys({ source: request.source });
    const budget = RetryBudget.fromContext(context, config.safetyMarginMs);
    const result = await service.handleWebhook(request, budget, (eventId) => logger.setCorrelationId(eventId));
    // Queued: accepted, not yet done; the worker reports each job's outcome in its own logs.
    if (result.dispatch === 'queue') {
      recordQueued(result.queued);
      return jsonResponse(202, { queued: result.queued });
    }
    recordOutcomes(result.outcomes, result.requests);
    return result.failure ? reject(result.failure) : jsonResponse(200, resultsBody(result.outcomes));
  } catch (error) {
    return reject(error);
  }
}

function reject(error: unknown): APIGatewayProxyStructuredResultV2 {
  const untagError = asUntagError(error);
  // Unexpected errors are logged whole (they carry no secrets of ours); typed ones by code, with
  // the detail only operators see.
  if (untagError !== error) logger.error('unexpected error', error as Error);
  logger.warn('webhook rejected', {
    status: untagError.status,
    code: untagError.code,
    reason: untagError.message,
    detail: untagError.detail,
  });
  return errorResponse(untagError);
}

export const handler = observed(webhook);
