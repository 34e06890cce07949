/**
 * The HelpCrunch REST calls this function makes, over one axios instance per container (its
 * transport, with the keep-alive connections, is ./http-adapter.ts).
 * Every status is mapped here to a result or a typed error; raw axios errors never escape because
 * they carry the request headers, Authorization included.
 */
import axios, { type AxiosResponse, type Method } from 'axios';
import { BadEventError, ConfigError, UntagError } from '../errors';
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

/** `requests`: the HTTP requests one call made, retries and key re-sends included. */
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

/** What the client throws: an UntagError that also says how many HTTP requests were made. */
export type HelpCrunchCallError = UntagError & { requests: number };

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
const isCustomerNotFound = (response: AxiosResponse) =>
  response.status === 404 && errorEntries(response.data).some((entry) => entry.code === 'not_found');

function rejection(response: AxiosResponse): UntagError {
  const { status } = response;
  const detail = helpCrunchDetail(response.data);
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

function transportFailure(error: unknown, timeoutMs: number): Error {
  const failure = transportFailureOf(error);
  if (failure.kind === 'timeout') return new TransientFailure(`HelpCrunch did not answer within ${timeoutMs} ms`);
  // No retry brings a smaller answer.
  if (failure.kind === 'too_large')
    return new ConfigError(`HelpCrunch answered more than ${maxResponseBytes} bytes`, 'helpcrunch_unexpected_response');
  return new TransientFailure(`HelpCrunch unreachable (${failure.code})`);
}

/** Counts HTTP requests across one public call, and stamps the count on whatever it throws. */
async function counted<T>(run: (counter: { requests: number }) => Promise<T>): Promise<{ value: T; requests: number }> {
  const counter = { requests: 0 };
  try {
    return { value: await run(counter), requests: counter.requests };
  } catch (error) {
    throw error instanceof UntagError ? Object.assign(error, { requests: counter.requests }) : error;
  }
}

const isCustomerId = (id: unknown): id is number => Number.isSafeInteger(id) && (id as number) > 0;

/** One page of Search customers, shaped as HelpCrunch's lists are: `{"data": [customer, …], "total": N}`. */
function parseSearchPage(body: unknown): { customers: HelpCrunchCustomer[]; total?: number } {
  const { data, total } = (body ?? {}) as { data?: unknown; total?: unknown };
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

export function createHelpCrunchClient(options: HelpCrunchClientOptions): HelpCrunchClient {
  const { baseUrl, apiKey, timeoutMs = 5_000, retryPolicy = defaultRetryPolicy } = options;
  const http = axios.create({
    adapter: createNodeHttpAdapter(),
    maxContentLength: maxResponseBytes,
    validateStatus: () => true,
    headers: { 'User-Agent': 'helpcrunch-untag', Accept: 'application/json' },
  });

  /**
   * One HelpCrunch request, retried by the shared policy. Statuses it does not judge itself (2xx,
   * 404) go to `accept`. A 401/403 is re-sent at once with a freshly read key, as the key may have
   * been rotated since it was cached; that re-send belongs to the same attempt, so a caller that
   * allows a single attempt (the queue worker) still picks up a rotated key.
   */
  async function call<T>(
    request: { method: Method; path: string; body: unknown },
    budget: RetryBudget,
    counter: { requests: number },
    accept: (response: AxiosResponse) => T,
  ): Promise<T> {
    let keyRefreshed = false;
    const send = async (timeout: number, forceRefresh: boolean): Promise<AxiosResponse> => {
      const bearer = await apiKey.get(forceRefresh ? { forceRefresh, budget } : { budget });
      counter.requests++;
      const { method, path, body } = request;
      try {
        return await http.request({
          method,
          url: `${baseUrl}${path}`,
          data: body,
          timeout,
          headers: { Authorization: `Bearer ${bearer}` },
        });
      } catch (error) {
        throw transportFailure(error, timeout);
      }
    };
    const isKeyRejected = (response: AxiosResponse) => response.status === 401 || response.status === 403;
    const attempt = async (_attempt: number, timeout: number): Promise<T> => {
      let response = await send(timeout, false);
      if (isKeyRejected(response) && !keyRefreshed) {
        keyRefreshed = true;
        response = await send(Math.min(timeout, budget.remainingMs()), true);
      }
      const { status } = response;
      if (isKeyRejected(response)) {
        throw new ConfigError(`HelpCrunch rejected the API key (${status}) after refreshing it`, 'api_key_rejected');
      }
      if (status === 429 || status >= 500) {
        const retryAfter = response.headers['retry-after'] as string | undefined;
        throw new TransientFailure(`HelpCrunch answered ${status}`, parseRetryAfter(retryAfter, Date.now()));
      }
      return accept(response);
    };
    const { value } = await withRetry(attempt, {
      budget,
      policy: retryPolicy,
      classify: retryTransient,
      attemptTimeoutMs: timeoutMs,
    });
    return value;
  }

  const isSuccess = (response: AxiosResponse) => response.status >= 200 && response.status < 300;

  /** Tag and Untag customer: one body shape, `{"tags":[{"name"}]}`, and one reading of the answer. */
  async function changeTags(method: 'PUT' | 'DELETE', customerId: number, tags: string[], budget: RetryBudget) {
    const request = { method, path: `/customers/${customerId}/tags`, body: { tags: tags.map((name) => ({ name })) } };
    const { value: found, requests } = await counted((counter) =>
      call(request, budget, counter, (response) => {
        if (isSuccess(response)) return true;
        if (isCustomerNotFound(response)) return false;
        throw rejection(response);
      }),
    );
    return { found, requests };
  }

  return {
    untagCustomer: (customerId, tags, { budget }) => changeTags('DELETE', customerId, tags, budget),
    tagCustomer: (customerId, tags, { budget }) => changeTags('PUT', customerId, tags, budget),

    async searchCustomers(field, value, { budget }) {
      const { value: customers, requests } = await counted(async (counter) => {
        const collected: HelpCrunchCustomer[] = [];
        for (;;) {
          const filter = [{ field: `customers.${field}`, operator: '=', value }];
          const body = { filter, limit: pageSize, offset: collected.length };
          const request = { method: 'POST', path: '/customers/search', body } as const;
          const { customers: found, total } = await call(request, budget, counter, (response) => {
            if (!isSuccess(response)) throw rejection(response);
            return parseSearchPage(response.data);
          });
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
