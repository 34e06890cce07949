/**
 * Typed errors, in one place. Every failure the function can meet is one of these, so each
 * trigger adapter maps them to its own reply (HTTP status, rejection, batch item failure)
 * in a single function. Messages never carry secrets: they are written to logs and replies.
 */

/** Base class: `status` is the HTTP status a webhook sender sees, `code` the machine-readable reason. */
export abstract class UntagError extends Error {
  abstract readonly status: number;
  /** true when the same event may succeed later (rate limit, outage, timeout). */
  abstract readonly retryable: boolean;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The event itself is wrong (malformed JSON, missing customer field, HelpCrunch said 400). Never retried. */
export class BadEventError extends UntagError {
  readonly status = 400;
  readonly retryable = false;
}

/** Webhook signature, token or timestamp missing or wrong. HelpCrunch is not called. */
export class WebhookAuthError extends UntagError {
  readonly status = 401;
  readonly retryable = false;
  constructor(message: string, code = 'invalid_signature') {
    super(code, message);
  }
}

/** `/webhooks/<source>` names no configured source. */
export class UnknownSourceError extends UntagError {
  readonly status = 404;
  readonly retryable = false;
  constructor(source: string) {
    super('unknown_source', `Unknown webhook source '${source}'`);
  }
}

/**
 * Anything but POST at the webhook. HTTP API routes only POST here; a Function URL or a REST API
 * proxy passes every method through.
 */
export class MethodNotAllowedError extends UntagError {
  readonly status = 405;
  readonly retryable = false;
  constructor(method: string) {
    super('method_not_allowed', `Webhooks are delivered with POST, not ${method}`);
  }
}

/** Body larger than the configured limit. */
export class PayloadTooLargeError extends UntagError {
  readonly status = 413;
  readonly retryable = false;
  constructor(limitBytes: number) {
    super('payload_too_large', `Request body exceeds the ${limitBytes}-byte limit`);
  }
}

/** HelpCrunch rate-limited, failing or unreachable, and the time budget ran out. The sender should retry. */
export class RetryableError extends UntagError {
  readonly status = 503;
  readonly retryable = true;
  constructor(
    message: string,
    /** Suggested wait before trying again, in ms (from Retry-After or the backoff policy). */
    readonly retryAfterMs?: number,
    code = 'helpcrunch_unavailable',
  ) {
    super(code, message);
  }
}

/** Deployment is misconfigured (API key rejected after a refresh, secret unreadable, bad URL). */
export class ConfigError extends UntagError {
  readonly status = 500;
  readonly retryable = false;
  constructor(message: string, code = 'configuration_error') {
    super(code, message);
  }
}

/** Any thrown value as an UntagError; unknown errors become a 500 without leaking their message. */
export function asUntagError(error: unknown): UntagError {
  if (error instanceof UntagError) return error;
  return new ConfigError('Internal error', 'internal_error');
}

/**
 * What an asynchronous trigger rejects with: the message leads with whether retrying can help,
 * so the on-failure destination and the logs say at a glance why an event ended there.
 */
export class EventRejectedError extends Error {
  constructor(readonly cause: UntagError) {
    super(`${cause.retryable ? 'retryable' : 'not retryable'}: ${cause.code}: ${cause.message}`);
    this.name = 'EventRejectedError';
  }
}
