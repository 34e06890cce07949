/**
 * Typed errors, in one place. Every failure the function can meet is one of these, so each
 * trigger adapter maps them to its own reply (HTTP status, rejection, batch item failure)
 * in a single function. Messages never carry secrets: they are written to logs and replies.
 * What only an operator may see (secret ids, SDK error names, HelpCrunch's own words) goes in
 * `detail`, which adapters log and never send.
 */

/** Base class: `status` is the HTTP status a webhook sender sees, `code` the machine-readable reason. */
export abstract class UntagError extends Error {
  abstract readonly status: number;
  /** true when the same event may succeed later (rate limit, outage, timeout). */
  abstract readonly retryable: boolean;
  /** For the logs only, never a reply. */
  readonly detail?: string;
  /**
   * The HTTP requests the failed call had made (retries and credential re-sends included), set as
   * the failure leaves an authenticated call (lib/http/authenticated-api.ts); undefined otherwise.
   */
  requests?: number;
  constructor(
    readonly code: string,
    message: string,
    detail?: string,
  ) {
    super(message);
    this.name = new.target.name;
    if (detail) this.detail = detail;
  }
}

/** The event itself is wrong (malformed JSON, missing customer field, HelpCrunch said 400). Never retried. */
export class BadEventError extends UntagError {
  readonly status: number = 400;
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

// The name comes from the URL anyone may call: echoed, but bounded.
const maxEchoedSourceLength = 64;

/** `/webhooks/<source>` names no configured source. */
export class UnknownSourceError extends UntagError {
  readonly status = 404;
  readonly retryable = false;
  constructor(source: string) {
    const shown = source.length > maxEchoedSourceLength ? `${source.slice(0, maxEchoedSourceLength)}…` : source;
    super('unknown_source', `Unknown webhook source '${shown}'`);
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

/** One request or event matched more jobs than MAX_JOBS_PER_REQUEST; nothing was dispatched. */
export class TooManyJobsError extends UntagError {
  readonly status = 413;
  readonly retryable = false;
  constructor(count: number, limit: number) {
    super(
      'too_many_jobs',
      `The request matched ${count} jobs; at most ${limit} are taken per request (MAX_JOBS_PER_REQUEST): send smaller batches`,
    );
  }
}

/**
 * One request or event names more distinct customers than MAX_CUSTOMERS_PER_REQUEST once its
 * lookups are resolved (a deal's contacts, say); nothing was changed. Not retryable: the same
 * event names as many next time.
 */
export class TooManyCustomersError extends BadEventError {
  override readonly status = 413;
  constructor(count: number, limit: number) {
    super(
      'too_many_customers',
      `The request names ${count} customers; at most ${limit} are changed per request (MAX_CUSTOMERS_PER_REQUEST): send smaller batches`,
    );
  }
}

/**
 * A dependency (HelpCrunch, a lookup's API, Secrets Manager, the queue, the ledger) rate-limited,
 * failing or unreachable, and the time budget ran out; `code` says which. The sender should retry.
 */
export class RetryableError extends UntagError {
  readonly status = 503;
  readonly retryable = true;
  constructor(
    message: string,
    /** Suggested wait before trying again, in ms (from Retry-After or the backoff policy). */
    readonly retryAfterMs: number | undefined,
    code: string,
    detail?: string,
  ) {
    super(code, message, detail);
  }
}

/** Deployment is misconfigured (API key rejected after a refresh, secret unreadable, bad URL). */
export class ConfigError extends UntagError {
  readonly status = 500;
  readonly retryable = false;
  constructor(message: string, code = 'configuration_error', detail?: string) {
    super(code, message, detail);
  }
}

/** The message with its detail, for operators' eyes only (logs, dead-letter reasons). */
export function operatorMessage(error: UntagError): string {
  return error.detail ? `${error.message} (${error.detail})` : error.message;
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
