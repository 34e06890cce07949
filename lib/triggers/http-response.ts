/** Webhook replies: JSON bodies, errors in HelpCrunch's own `{"errors":[{code,message}]}` shape. */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { MethodNotAllowedError, RetryableError, type UntagError } from '../errors';
import type { Outcome } from '../types';

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function errorResponse(error: UntagError): APIGatewayProxyStructuredResultV2 {
  return jsonResponse(error.status, { errors: [{ code: error.code, message: error.message }] }, errorHeaders(error));
}

// A Retry-After from HelpCrunch is passed on, but no broken or hostile answer makes senders wait for days.
const maxRetryAfterSeconds = 3600;

/** What HTTP asks of these statuses. */
function errorHeaders(error: UntagError): Record<string, string> {
  // A 503 always tells the sender when to come back, even when HelpCrunch gave no Retry-After.
  if (error instanceof RetryableError) {
    const seconds = Math.ceil((error.retryAfterMs ?? 0) / 1000);
    return { 'retry-after': String(Math.min(maxRetryAfterSeconds, Math.max(1, seconds || 1))) };
  }
  if (error instanceof MethodNotAllowedError) return { allow: 'POST' };
  return {};
}

/** The public per-job result: timing and request counts stay in the logs. */
export function resultsBody(outcomes: Outcome[]) {
  return {
    results: outcomes.map(({ rule, customerId, removed, added, status, reason }) => ({
      rule,
      customerId,
      removed,
      added,
      status,
      ...(reason ? { reason } : {}),
    })),
  };
}
