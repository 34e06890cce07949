/**
 * The HelpCrunch REST calls this function makes, through the one authenticated call path
 * (lib/http/authenticated-api.ts: transport, retries, key refresh, request counts). What is
 * HelpCrunch's own is here: the API key as Bearer, its error body, and what its statuses mean.
 */
import { BadEventError, ConfigError } from '../errors';
import {
  createAuthenticatedApi,
  jsonOf,
  type ApiAnswer,
  type ApiProfile,
  type ApiRequest,
  type Credential,
} from '../http/authenticated-api';
import type { RetryBudget, RetryPolicy } from '../http/retry';

/** A customer as HelpCrunch documents it (Customer model): the fields this function reads. */
export interface HelpCrunchCustomer {
  id: number;
  email?: string | null;
  userId?: string | null;
  name?: string | null;
  /** Its tags. (`customers.tagsData` is only the name of the search filter on them.) */
  tags?: { name: string; color?: string }[];
}

export interface ApiKeySource {
  /** `forceRefresh`: HelpCrunch refused the key, which may have been rotated; `budget`: what the read may take. */
  get(options: { forceRefresh?: boolean; budget: RetryBudget }): Promise<string>;
}

export interface CallOptions {
  budget: RetryBudget;
}

/**
 * `requests`: the HTTP requests one call made, retries and key re-sends included; what a call
 * throws is an UntagError carrying them too (UntagError.requests).
 */
export interface HelpCrunchClient {
  /** Untag customer (DELETE …/tags); found=false when HelpCrunch answers its 404 not_found (no such customer). */
  untagCustomer(
    customerId: number,
    tags: string[],
    options: CallOptions,
  ): Promise<{ found: boolean; requests: number }>;
  /** Tag customer (PUT …/tags, a missing tag is created); found=false as for untagCustomer. */
  tagCustomer(customerId: number, tags: string[], options: CallOptions): Promise<{ found: boolean; requests: number }>;
  /** Every customer whose email/userId equals `value`; BadEventError too_many_customers past the search cap. */
  searchCustomers(
    field: 'email' | 'userId',
    value: string,
    options: CallOptions,
  ): Promise<{ customers: HelpCrunchCustomer[]; requests: number }>;
}

export interface HelpCrunchClientOptions {
  baseUrl: string;
  apiKey: ApiKeySource;
  timeoutMs?: number;
  retryPolicy?: RetryPolicy;
}

const pageSize = 100;
const maxSearchPages = 10;
// More customers sharing one email or userId means something is wrong: the job fails rather than
// untag some of them and report success.
const maxCustomers = pageSize * maxSearchPages;
const maxDetailLength = 200;
// HelpCrunch's answers are a few KB; a page of 100 customers well under this.
const maxResponseBytes = 4 * 1024 * 1024;

type ErrorEntry = { code?: unknown; message?: unknown };

/** The entries of HelpCrunch's error body `{"errors":[{code, message}, …]}`; none for any other body. */
function errorEntries(body: unknown): ErrorEntry[] {
  const errors = (body as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors)
    ? errors.filter((entry): entry is ErrorEntry => typeof entry === 'object' && entry !== null)
    : [];
}

/**
 * HelpCrunch's reasons, for the logs: its entries after the generic `invalid_request` one, trimmed.
 * They stay out of replies, since they may quote what was sent.
 */
function helpCrunchDetail(body: unknown): string | undefined {
  const entries = errorEntries(body);
  const reasons = entries.filter((entry) => entry.code !== 'invalid_request');
  const text = (reasons.length > 0 ? reasons : entries)
    .map(({ code, message }) => [code, message].filter((part) => typeof part === 'string' && part).join(': '))
    .filter(Boolean)
    .join('; ');
  const flat = text.replace(/\s+/g, ' ').trim();
  if (!flat) return undefined;
  return flat.length > maxDetailLength ? `${flat.slice(0, maxDetailLength)}…` : flat;
}

/** HelpCrunch's answer for a customer id it does not know: 404 with a `not_found` entry in its error body. */
const isCustomerNotFound = (answer: ApiAnswer) =>
  answer.status === 404 && errorEntries(jsonOf(answer)).some((entry) => entry.code === 'not_found');

function rejection(answer: ApiAnswer): BadEventError | ConfigError {
  const { status } = answer;
  const detail = helpCrunchDetail(jsonOf(answer));
  if (status === 404) {
    // Not HelpCrunch's customer-not-found answer: a wrong base URL or a proxy. Every event would meet
    // it, so it is the deployment's problem, never a skipped customer.
    return new ConfigError(
      'HelpCrunch answered 404 for an API route: check HELPCRUNCH_API_URL',
      'helpcrunch_route_not_found',
      detail,
    );
  }
  if (status >= 400 && status < 500) {
    const code = status === 400 ? 'helpcrunch_bad_request' : `helpcrunch_${status}`;
    return new BadEventError(code, `HelpCrunch rejected the request (${status})`, detail);
  }
  return new ConfigError(`HelpCrunch answered unexpected status ${status}`, 'helpcrunch_unexpected_status');
}

const profile: ApiProfile = {
  name: () => 'HelpCrunch',
  codes: {
    unavailable: 'helpcrunch_unavailable',
    refused: 'api_key_rejected',
    tooLarge: 'helpcrunch_unexpected_response',
  },
};

const isCustomerId = (id: unknown): id is number => Number.isSafeInteger(id) && (id as number) > 0;

/** One page of Search customers, shaped as HelpCrunch's lists are: `{"data": [customer, …], "total": N}`. */
function parseSearchPage(answer: ApiAnswer): { customers: HelpCrunchCustomer[]; total?: number } {
  const { data, total } = (jsonOf(answer) ?? {}) as { data?: unknown; total?: unknown };
  const valid = Array.isArray(data) && data.every((item) => isCustomerId((item as { id?: unknown } | null)?.id));
  if (!valid) {
    throw new ConfigError('HelpCrunch search answered without a customer list', 'helpcrunch_unexpected_response');
  }
  return {
    customers: data as HelpCrunchCustomer[],
    total: Number.isSafeInteger(total) ? (total as number) : undefined,
  };
}

/** The tag names a customer carries, or undefined when the answer does not say (then nothing is skipped). */
export function tagNames(customer: HelpCrunchCustomer): Set<string> | undefined {
  const { tags } = customer;
  const valid =
    Array.isArray(tags) && tags.every((tag) => typeof (tag as { name?: unknown } | null)?.name === 'string');
  return valid ? new Set(tags.map((tag) => tag.name)) : undefined;
}

const tooManyCustomers = (field: string) =>
  new BadEventError(
    'too_many_customers',
    `More than ${maxCustomers} HelpCrunch customers share this ${field}: none of them was changed`,
  );

const isSuccess = (answer: ApiAnswer) => answer.status >= 200 && answer.status < 300;

type HelpCrunchSend = (method: ApiRequest['method'], path: string, body: unknown) => Promise<ApiAnswer>;

export function createHelpCrunchClient(options: HelpCrunchClientOptions): HelpCrunchClient {
  const { baseUrl, apiKey, timeoutMs = 5_000, retryPolicy } = options;
  const api = createAuthenticatedApi({ maxAnswerBytes: maxResponseBytes, timeoutMs, retryPolicy });

  /** `work`'s requests, each with the key as Bearer; HelpCrunch's key source is always asked again after a 401/403. */
  function call<T>(budget: RetryBudget, work: (send: HelpCrunchSend) => Promise<T>) {
    const key: Credential = {
      read: (forceRefresh) => apiKey.get(forceRefresh ? { forceRefresh, budget } : { budget }),
      resendUnchanged: true,
    };
    return api.call(profile, key, budget, (send) =>
      work((method, path, body) =>
        send((bearer) => ({
          method,
          url: new URL(`${baseUrl}${path}`),
          headers: { Authorization: `Bearer ${bearer}` },
          body,
        })),
      ),
    );
  }

  /** Tag and Untag customer: one body shape, `{"tags":[{"name"}]}`, and one reading of the answer. */
  async function changeTags(method: 'PUT' | 'DELETE', customerId: number, tags: string[], budget: RetryBudget) {
    const body = { tags: tags.map((name) => ({ name })) };
    const { value: found, requests } = await call(budget, async (send) => {
      const answer = await send(method, `/customers/${customerId}/tags`, body);
      if (isSuccess(answer)) return true;
      if (isCustomerNotFound(answer)) return false;
      throw rejection(answer);
    });
    return { found, requests };
  }

  return {
    untagCustomer: (customerId, tags, { budget }) => changeTags('DELETE', customerId, tags, budget),
    tagCustomer: (customerId, tags, { budget }) => changeTags('PUT', customerId, tags, budget),

    async searchCustomers(field, value, { budget }) {
      const { value: customers, requests } = await call(budget, async (send) => {
        const collected: HelpCrunchCustomer[] = [];
        for (;;) {
          const filter = [{ field: `customers.${field}`, operator: '=', value }];
          const answer = await send('POST', '/customers/search', { filter, limit: pageSize, offset: collected.length });
          if (!isSuccess(answer)) throw rejection(answer);
          const { customers: found, total } = parseSearchPage(answer);
          collected.push(...found);
          const more = total === undefined ? found.length === pageSize : collected.length < total;
          if (found.length === 0 || !more) return collected;
          // A known total says at once; without one, a full last page does.
          if ((total ?? collected.length + 1) > maxCustomers) throw tooManyCustomers(field);
        }
      });
      return { customers, requests };
    },
  };
}
