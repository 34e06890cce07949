/**
 * The one path of every call to an authenticated API: HelpCrunch (lib/helpcrunch/client.ts) and
 * the senders' APIs the lookups ask (lib/lookups/http.ts). Requests go over the lean transport
 * (./transport.ts, keep-alive, the early connection) with the credential read right before each
 * one; a refused credential (401/403) is read again bypassing caches, as it may have been rotated,
 * and the request re-sent once per call, within the same attempt (so a single-attempt policy still
 * picks up a rotation); 429 and 5xx (Retry-After as a floor), timeouts and connection failures are
 * retried by the shared policy inside the time budget; and every request is counted, the count
 * coming back with the call's value or on its failure (UntagError.requests).
 *
 * What differs between APIs, the callers say: the credential and where it goes (`build`), how
 * their failures are named and coded (ApiProfile), and how to read every other answer, which
 * comes back as it is. Raw axios errors never escape: they carry the request, credentials included.
 */
import axios from 'axios';
import { asUntagError, ConfigError } from '../errors';
import {
  defaultRetryPolicy,
  parseRetryAfter,
  retryTransient,
  TransientFailure,
  withRetry,
  type RetryBudget,
  type RetryPolicy,
} from './retry';
import { createNodeHttpAdapter, transportFailureOf } from './transport';

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Absolute; its origin is the API's. */
  url: URL;
  headers: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
}

/** An answer's body: none (empty, as a 204's), JSON, or anything else (an HTML error page, a cut-off text). */
export type AnswerBody = { kind: 'empty' } | { kind: 'json'; value: unknown } | { kind: 'not_json' };

/** An answer this path does not judge itself: any status but 401/403 (after the re-send), 429 and 5xx. */
export interface ApiAnswer {
  status: number;
  body: AnswerBody;
  /** The URL that answered. */
  url: URL;
}

/** The body's JSON, or undefined when it is empty or not JSON. */
export const jsonOf = ({ body }: ApiAnswer): unknown => (body.kind === 'json' ? body.value : undefined);

/** How one API's failures read. */
export interface ApiProfile {
  /** Who answered, as messages start: "HelpCrunch", or `Lookup "crm": api.example.com`; without a URL when no request was made. */
  name(url?: URL): string;
  codes: {
    /** Still failing when retrying has to stop (RetryableError). */
    unavailable: string;
    /** The credential refused again once read afresh (ConfigError). */
    refused: string;
    /** An answer over maxAnswerBytes (ConfigError): no retry brings a smaller one. */
    tooLarge: string;
  };
}

/** The secret a call's requests carry. */
export interface Credential {
  /** Read right before each request; `forceRefresh` after the API refused the value read before. */
  read(forceRefresh: boolean): Promise<string>;
  /** Re-send even when the value read afresh is the one refused; otherwise that refusal stands at once. */
  resendUnchanged: boolean;
}

/** Sends the request `build` makes from the credential (built again when the credential is re-read). */
export type Send = (build: (credential: string) => ApiRequest) => Promise<ApiAnswer>;

/** A value and the HTTP requests it took, retries and credential re-sends included. */
export interface Counted<T> {
  value: T;
  requests: number;
}

export interface AuthenticatedApi {
  /**
   * Runs `work`, whose requests go through `send`: they share the budget, one request count and
   * one credential refresh. Resolves with work's value and the count; whatever it throws leaves as
   * an UntagError carrying the count in `requests`.
   */
  call<T>(
    profile: ApiProfile,
    credential: Credential,
    budget: RetryBudget,
    work: (send: Send) => Promise<T>,
  ): Promise<Counted<T>>;
}

export interface AuthenticatedApiOptions {
  maxAnswerBytes: number;
  /** The longest one request may take (less when the budget has less left). */
  timeoutMs: number;
  retryPolicy?: RetryPolicy;
  /** The clock an HTTP-date Retry-After is read against. */
  now?: () => number;
  /** Backoff waits and jitter, for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const isRefused = (status: number) => status === 401 || status === 403;

function bodyOf(text: string): AnswerBody {
  if (text.trim() === '') return { kind: 'empty' };
  try {
    return { kind: 'json', value: JSON.parse(text) };
  } catch {
    return { kind: 'not_json' };
  }
}

/** One per API and container: its keep-alive connections serve every warm invocation. */
export function createAuthenticatedApi(options: AuthenticatedApiOptions): AuthenticatedApi {
  const {
    maxAnswerBytes,
    timeoutMs,
    retryPolicy = defaultRetryPolicy,
    now = () => Date.now(),
    sleep,
    random,
  } = options;
  const http = axios.create({
    adapter: createNodeHttpAdapter(),
    maxContentLength: maxAnswerBytes,
    responseType: 'text',
    validateStatus: () => true,
    headers: { 'User-Agent': 'helpcrunch-untag', Accept: 'application/json' },
  });

  return {
    async call(profile, credential, budget, work) {
      let requests = 0;
      let refreshed = false;

      async function exchange({ method, url, headers, body }: ApiRequest, timeout: number) {
        requests++;
        try {
          return await http.request<string>({ method, url: url.href, headers, data: body, timeout });
        } catch (error) {
          const failure = transportFailureOf(error);
          const name = profile.name(url);
          if (failure.kind === 'too_large') {
            throw new ConfigError(`${name} answered more than ${maxAnswerBytes} bytes`, profile.codes.tooLarge);
          }
          if (failure.kind === 'timeout') throw new TransientFailure(`${name} did not answer within ${timeout} ms`);
          throw new TransientFailure(`${name} unreachable (${failure.code})`);
        }
      }

      async function attempt(build: (credential: string) => ApiRequest, timeout: number): Promise<ApiAnswer> {
        const read = await credential.read(false);
        let request = build(read);
        let response = await exchange(request, timeout);
        if (isRefused(response.status) && !refreshed) {
          refreshed = true;
          const fresh = await credential.read(true);
          if (fresh !== read || credential.resendUnchanged) {
            request = build(fresh);
            // At least 1 ms: axios takes a timeout of 0 as none.
            response = await exchange(request, Math.max(1, Math.min(timeout, budget.remainingMs())));
          }
        }
        const { status, headers, data } = response;
        const name = profile.name(request.url);
        if (isRefused(status)) {
          throw new ConfigError(
            `${name} refused the credentials (${status}), also after reading them again`,
            profile.codes.refused,
          );
        }
        if (status === 429 || status >= 500) {
          const retryAfter = headers['retry-after'];
          const wait = parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : undefined, now());
          throw new TransientFailure(`${name} answered ${status}`, wait);
        }
        return { status, body: bodyOf(data), url: request.url };
      }

      const send: Send = async (build) => {
        const { value } = await withRetry((_attempt, timeout) => attempt(build, timeout), {
          budget,
          policy: retryPolicy,
          classify: retryTransient,
          attemptTimeoutMs: timeoutMs,
          unavailable: { code: profile.codes.unavailable, subject: profile.name() },
          sleep,
          random,
        });
        return value;
      };

      try {
        return { value: await work(send), requests };
      } catch (error) {
        const failure = asUntagError(error);
        failure.requests = requests;
        throw failure;
      }
    },
  };
}
