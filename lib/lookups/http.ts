/**
 * A lookup's requests to a sender's API: the same lean transport (keep-alive, no redirects) and
 * the same retry policy and time budget as HelpCrunch calls. Every status is judged here; what
 * comes back is a 2xx or 404 answer, anything else is a typed error. Raw axios errors never
 * escape: they carry the request, credentials included.
 */
import axios, { type AxiosResponse } from 'axios';
import { ConfigError, RetryableError, UntagError } from '../errors';
import { createNodeHttpAdapter, transportFailureOf } from '../http/transport';
import {
  defaultRetryPolicy,
  parseRetryAfter,
  retryTransient,
  TransientFailure,
  withRetry,
  type RetryBudget,
  type RetryPolicy,
} from '../http/retry';
import type { LookupRequest } from './auth';

/** A 2xx or 404 answer; `body` is the parsed JSON, undefined when the body is empty (or, on a 404, not JSON). */
export interface LookupAnswer {
  status: number;
  body: unknown;
}

/** The secrets a lookup reads (lib/secrets.ts's cache in Lambda); `label` names the secret in errors instead of its id. */
export interface SecretSource {
  get(secretId: string, options?: { forceRefresh?: boolean; budget?: RetryBudget; label?: string }): Promise<string>;
}

/** One resolve's conversation with one API: its requests share a budget, a request count and one secret refresh. */
export interface LookupSession {
  /** Sends the request `build` makes from the secret (called again when the secret is re-read). */
  send(build: (secret: string) => LookupRequest): Promise<LookupAnswer>;
  readonly requests: number;
}

export interface LookupTransportOptions {
  secrets: SecretSource;
  timeoutMs: number;
  retryPolicy?: RetryPolicy;
  now: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

// A customer record is a few KB; a deal's contacts batch well under this. More is not an answer to read.
const maxAnswerBytes = 1024 * 1024;
// What an HTTP header value may hold (RFC 9110 field-value); node:http would otherwise throw mid-request.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

const isKeyRejected = (status: number) => status === 401 || status === 403;

export type LookupTransport = (lookup: string, secretId: string, budget: RetryBudget) => LookupSession;

export function createLookupTransport(options: LookupTransportOptions): LookupTransport {
  const { secrets, timeoutMs, retryPolicy = defaultRetryPolicy, now, sleep, random } = options;
  const http = axios.create({
    adapter: createNodeHttpAdapter(),
    maxContentLength: maxAnswerBytes,
    responseType: 'text',
    validateStatus: () => true,
    headers: { 'User-Agent': 'helpcrunch-untag', Accept: 'application/json' },
  });

  return (lookup, secretId, budget) => {
    const failed = (message: string, code = 'lookup_failed') => new ConfigError(`Lookup "${lookup}": ${message}`, code);
    let requests = 0;
    let secretRefreshed = false;

    async function readSecret(forceRefresh: boolean): Promise<string> {
      const label = `The secret of lookup "${lookup}"`;
      const secret = (await secrets.get(secretId, { budget, label, ...(forceRefresh && { forceRefresh }) })).trim();
      if (secret === '') throw failed('its secret is empty', 'secret_unreadable');
      if (!HEADER_VALUE.test(secret))
        throw failed('its secret holds characters an HTTP request cannot carry', 'secret_unreadable');
      return secret;
    }

    async function exchange(request: LookupRequest, timeout: number): Promise<AxiosResponse<string>> {
      requests++;
      const { method, url, headers, body } = request;
      try {
        return await http.request<string>({ method, url: url.href, headers, data: body, timeout });
      } catch (error) {
        const failure = transportFailureOf(error);
        if (failure.kind === 'too_large') throw failed(`${url.host} answered more than ${maxAnswerBytes} bytes`);
        if (failure.kind === 'timeout') throw new TransientFailure(`${url.host} did not answer within ${timeout} ms`);
        throw new TransientFailure(`${url.host} unreachable (${failure.code})`);
      }
    }

    function judge(response: AxiosResponse<string>, host: string): LookupAnswer {
      const { status } = response;
      if (status === 429 || status >= 500) {
        throw new TransientFailure(
          `${host} answered ${status}`,
          parseRetryAfter(response.headers['retry-after'] as string | undefined, now()),
        );
      }
      if (status >= 300 && status < 400) {
        throw failed(`${host} answered ${status}, a redirect, which is not followed: check the lookup's URL`);
      }
      if (status !== 404 && (status < 200 || status >= 300)) throw failed(`${host} answered ${status}`);
      const text = response.data.trim();
      if (text === '') return { status, body: undefined };
      try {
        return { status, body: JSON.parse(text) };
      } catch {
        if (status === 404) return { status, body: undefined };
        throw failed(`${host} answered ${status} with a body that is not JSON`);
      }
    }

    /**
     * A 401/403 is re-sent at once with the secret read again bypassing the cache (it may have been
     * rotated); once per resolve, and only when the secret did change.
     */
    async function attempt(build: (secret: string) => LookupRequest, timeout: number): Promise<LookupAnswer> {
      const secret = await readSecret(false);
      let request = build(secret);
      let response = await exchange(request, timeout);
      if (isKeyRejected(response.status) && !secretRefreshed) {
        secretRefreshed = true;
        const fresh = await readSecret(true);
        if (fresh !== secret) {
          request = build(fresh);
          response = await exchange(request, Math.min(timeout, budget.remainingMs()));
        }
      }
      if (isKeyRejected(response.status)) {
        const refused = `${request.url.host} refused the credentials (${response.status}), also after reading the secret again`;
        throw failed(refused, 'lookup_unauthorized');
      }
      return judge(response, request.url.host);
    }

    return {
      get requests() {
        return requests;
      },
      async send(build) {
        try {
          const { value } = await withRetry((_attempt, timeout) => attempt(build, timeout), {
            budget,
            policy: retryPolicy,
            classify: retryTransient,
            attemptTimeoutMs: timeoutMs,
            sleep,
            random,
          });
          return value;
        } catch (error) {
          // withRetry's own verdict carries its default code; a secret read's secrets_unavailable passes through as it is.
          if (error instanceof RetryableError && error.code === 'helpcrunch_unavailable') {
            throw new RetryableError(`Lookup "${lookup}": ${error.message}`, error.retryAfterMs, 'lookup_unavailable');
          }
          if (error instanceof UntagError) throw error;
          throw failed('internal error');
        }
      },
    };
  };
}
