/**
 * A lookup's requests to a sender's API, through the one authenticated call path
 * (lib/http/authenticated-api.ts: transport, retries within the budget, secret refresh, request
 * counts). What is the lookups' own is here: the secret read from Secrets Manager (it goes where
 * the lookup's `auth` says, lib/lookups/auth.ts), redirects refused, and answers read strictly:
 * what comes back is a 2xx with a JSON body, or a 404; anything else is a typed error. An empty
 * body or a 204 is no record, so never "not found" (issue #20).
 */
import { ConfigError } from '../errors';
import {
  createAuthenticatedApi,
  jsonOf,
  type ApiAnswer,
  type ApiProfile,
  type Counted,
  type Credential,
} from '../http/authenticated-api';
import type { RetryBudget, RetryPolicy } from '../http/retry';
import type { LookupRequest } from './auth';

/** A 2xx answer with its JSON body, or a 404 with its body when that is JSON (undefined otherwise). */
export interface LookupAnswer {
  status: number;
  body: unknown;
}

/** The secrets a lookup reads (lib/secrets.ts's cache in Lambda); `label` names the secret in errors instead of its id. */
export interface SecretSource {
  get(secretId: string, options?: { forceRefresh?: boolean; budget?: RetryBudget; label?: string }): Promise<string>;
}

/** Sends the request `build` makes from the secret (built again when the secret is re-read). */
export type LookupSend = (build: (secret: string) => LookupRequest) => Promise<LookupAnswer>;

export interface LookupTransportOptions {
  secrets: SecretSource;
  timeoutMs: number;
  retryPolicy?: RetryPolicy;
  now: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/**
 * One resolve's conversation with one API: `work`'s requests share the budget, a request count and
 * one secret refresh; its value comes back with the count, and a failure carries it.
 */
export type LookupTransport = <T>(
  lookup: string,
  secretId: string,
  budget: RetryBudget,
  work: (send: LookupSend) => Promise<T>,
) => Promise<Counted<T>>;

// A customer record is a few KB; a deal's contacts batch well under this. More is not an answer to read.
const maxAnswerBytes = 1024 * 1024;
// What an HTTP header value may hold (RFC 9110 field-value); node:http would otherwise throw mid-request.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export function createLookupTransport(options: LookupTransportOptions): LookupTransport {
  const { secrets, timeoutMs, retryPolicy, now, sleep, random } = options;
  const api = createAuthenticatedApi({ maxAnswerBytes, timeoutMs, retryPolicy, now, sleep, random });

  return (lookup, secretId, budget, work) => {
    const profile: ApiProfile = {
      name: (url) => (url ? `Lookup "${lookup}": ${url.host}` : `Lookup "${lookup}"`),
      codes: { unavailable: 'lookup_unavailable', refused: 'lookup_unauthorized', tooLarge: 'lookup_failed' },
    };
    const unreadable = (problem: string) =>
      new ConfigError(`Lookup "${lookup}": its secret ${problem}`, 'secret_unreadable');

    // The secret re-read after a 401/403 is only sent when it changed: the same one would be refused again.
    const secret: Credential = {
      async read(forceRefresh) {
        const label = `The secret of lookup "${lookup}"`;
        const value = (await secrets.get(secretId, { budget, label, ...(forceRefresh && { forceRefresh }) })).trim();
        if (value === '') throw unreadable('is empty');
        if (!HEADER_VALUE.test(value)) throw unreadable('holds characters an HTTP request cannot carry');
        return value;
      },
      resendUnchanged: false,
    };

    /** The answer as presets and generic lookups read it; every other status fails. */
    function judged(answer: ApiAnswer): LookupAnswer {
      const { status, body } = answer;
      const failed = (problem: string) =>
        new ConfigError(`${profile.name(answer.url)} answered ${status}${problem}`, 'lookup_failed');
      if (status >= 300 && status < 400) {
        throw failed(", a redirect, which is not followed: check the lookup's URL");
      }
      if (status === 404) return { status, body: jsonOf(answer) };
      if (status < 200 || status >= 300) throw failed('');
      if (body.kind === 'empty') throw failed(' without a body, which is no record');
      if (body.kind === 'not_json') throw failed(' with a body that is not JSON');
      return { status, body: body.value };
    }

    return api.call(profile, secret, budget, (send) => work(async (build) => judged(await send(build))));
  };
}
