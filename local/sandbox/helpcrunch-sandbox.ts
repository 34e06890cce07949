/**
 * A local, in-memory HelpCrunch on node:http for tests, `npm start` and the benchmark.
 * It answers in the shapes HelpCrunch's REST API v1 docs show (their example answers are kept in
 * tests/fixtures/helpcrunch/, and tests/helpcrunch-documented.test.ts holds the sandbox to them);
 * every route needs `Authorization: Bearer <apiKey>`.
 * Beside the API and without auth, `/` serves a read-only page of customers and requests, fed by
 * GET /_sandbox/state and /_sandbox/events, and POST /_sandbox/reset restores the seed (inspector.ts).
 *
 *   GET    /v1/customers?limit=&offset=  200 {data: [customer], total}
 *   GET    /v1/customers/:id             200 customer
 *   POST   /v1/customers/search          200 {data: [customer], total}; body {filter:[{field, operator, value}],
 *                                        comparison?: AND|OR (default AND), limit?, offset?}; fields
 *                                        customers.email|userId|name with = != ~ ('=' and '!=' exact,
 *                                        '~' a case-insensitive "contains"), and customers.tagsData with
 *                                        '=' and a value [{name}, …]: customers carrying all those tags
 *   PUT    /v1/customers/:id/tags        200 customer; body {tags:[{name, color?}]}; adds missing names,
 *                                        without a color in HelpCrunch's default #c377e0
 *   DELETE /v1/customers/:id/tags        200 customer; body {tags:[{name}]}; removes exact names,
 *                                        names the customer lacks are ignored
 *
 * A customer is HelpCrunch's Customer model, its tags as `tags: [{name, color}]`; fields the
 * sandbox does not keep are null or empty. limit defaults to 20 and is capped at 100; offset
 * defaults to 0.
 *
 * Each request meets, in this order: its scripted answer if one is queued (script(), below),
 * injected latency, injected drop (socket destroyed, no reply), injected 429, injected 500, the
 * bearer check (401), the account rate limit (429 with Retry-After), then routing: unknown route
 * 404 -> non-numeric id 400 -> body (413, invalid JSON 400, invalid tags/filter/pagination 400) ->
 * unknown customer 404. Error bodies are exactly SANDBOX_ERRORS[…].body, HelpCrunch's
 * `{"errors":[{"code":"invalid_request",…},{"code":<reason>,…}]}`; only an unknown customer's 404
 * carries the `not_found` entry, an unknown route's does not.
 *
 * Scripted answers (scripted-answers.ts) are the misbehaviour a test or a developer asks for, per
 * route (SANDBOX_ROUTES) or for any request: a sequence of statuses, one of SANDBOX_ERRORS with or
 * without Retry-After, a stall, a dropped connection, an answer cut short, an answer late, or a
 * body HelpCrunch itself never sends (a proxy's, a gateway's). `npm start` takes them over HTTP
 * (POST /_sandbox/script, see inspector.ts). They and the injected faults skip auth and the rate
 * limit (they stand for a gateway failing in front of the API) but are recorded like any request.
 *
 * The rate limit is a sliding window over admitted requests (rejected ones do not count), so
 * Retry-After is the whole seconds until the oldest admitted request leaves the window.
 * Every request is recorded as it arrives (headers and body included, for tests; the page shows
 * neither) and completed when its connection is done. Memory stays bounded under load: the
 * request log is a ring buffer, recorded bodies are capped and the counters are numbers.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { BoundedLog } from './bounded-log';
import { CustomerStore, helpCrunchCustomer, parseSearchFilters } from './customer-store';
import type { SandboxCustomer } from './customer-store';
import { loadDemoCustomers } from './demo-customers';
import { BodyTooLargeError, baseUrl, closerFor, listen, type Reply, readBody, sendJson } from './http-server';
import { createInspector } from './inspector';
import type { Faults, RateLimit, RequestRecord, SandboxStats } from './sandbox-types';
import { AnswerScript, type ScriptedAnswer } from './scripted-answers';
import { SlidingWindow } from './sliding-window';

export type { SandboxCustomer, SandboxTag } from './customer-store';
export type { SandboxState } from './inspector';

export type { Faults, RateLimit, RequestLine, RequestRecord, SandboxStats } from './sandbox-types';

export interface HelpCrunchSandboxOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  apiKey?: string;
  /** Defaults to the demo customers (demo-customers.json). */
  customers?: readonly SandboxCustomer[];
  rateLimit?: RateLimit;
  faults?: Partial<Faults>;
  now?: () => number;
  random?: () => number;
  /**
   * What else a reset from the page or `POST /_sandbox/reset` (npm run demo) resets: npm start empties
   * its ledger and its queue's deduplication window with it, so the same samples apply again.
   */
  onReset?: () => Promise<void> | void;
  /** How many recent requests `requests` keeps (default 1000). */
  requestLogSize?: number;
}

export interface HelpCrunchSandbox {
  /** Base URL including the /v1 prefix, e.g. http://127.0.0.1:PORT/v1 */
  readonly url: string;
  readonly port: number;
  /** The key the sandbox accepts now (see rotateApiKey). */
  readonly apiKey: string;
  /** Accept only `key` from now on, as when an account's key is rotated; reset() restores the first one. */
  rotateApiKey(key: string): void;
  /** The most recent requests, oldest first (a copy). */
  readonly requests: RequestRecord[];
  close(): Promise<void>;
  customers(): SandboxCustomer[];
  customer(id: number): SandboxCustomer | undefined;
  setFaults(faults: Partial<Faults>): void;
  /** Restores customers (given, or the ones started with) and faults, clears log, stats and rate limit. */
  reset(customers?: readonly SandboxCustomer[]): void;
  stats(): SandboxStats;
  /** Calls `listener` once per finished request; returns an unsubscribe function. */
  onRequest(listener: (record: RequestRecord) => void): () => void;
  /**
   * Queues answers for the next requests on `route` ('*': any request), used before the sandbox
   * answers on its own (see the header and scripted-answers.ts); reset() forgets them.
   */
  script(route: SandboxRoute | '*', ...answers: SandboxAnswer[]): void;
  /** Requests a `stall` answer holds now. */
  stalled(): number;
  /** Lets every held request go on to the sandbox's own answer. */
  release(): void;
}

export const DEFAULT_SANDBOX_API_KEY = 'sandbox-api-key';
export const DEFAULT_RATE_LIMIT: RateLimit = { requests: 120, windowMs: 60_000 };
export const NO_FAULTS: Faults = { rate429: 0, rate5xx: 0, latencyMs: 0, dropRate: 0, retryAfter: 'none' };
const MAX_BODY_BYTES = 1024 * 1024;
/** Longer bodies are handled but not kept in the request log. */
export const RECORDED_BODY_BYTES = 64 * 1024;
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

/** The sandbox's routes, as scripted answers name them. */
export const SANDBOX_ROUTES = [
  'GET /v1/customers',
  'GET /v1/customers/:id',
  'POST /v1/customers/search',
  'PUT /v1/customers/:id/tags',
  'DELETE /v1/customers/:id/tags',
] as const;
export type SandboxRoute = (typeof SANDBOX_ROUTES)[number];

/** HelpCrunch's error body: a generic `invalid_request` entry, then the reason (a code, or the field at fault). */
function errorReply(status: number, code: string, message: string) {
  return {
    status,
    body: {
      errors: [
        { code: 'invalid_request', message: 'Invalid request' },
        { code, message },
      ],
    },
  } as const;
}

/** Every error the sandbox sends, with its exact body, for clients and tests to assert on. */
export const SANDBOX_ERRORS = {
  // As documented (Untag customer); 404's message there reads "Chat not found", a slip of the doc.
  unauthorized: errorReply(401, 'unauthorized', 'Unauthorized'),
  customerNotFound: errorReply(404, 'not_found', 'Customer not found'),
  tooManyRequests: errorReply(429, 'too_many_requests', 'Too many requests'),
  // Field errors as the documented 400 words them: the field as code, a validator's message.
  invalidId: errorReply(400, 'customer', 'This value should be of type numeric.'),
  invalidJson: errorReply(400, 'body', 'This value should be valid JSON.'),
  invalidTags: errorReply(400, 'tags', 'This value should be a non-empty list of {"name": "…"}.'),
  invalidFilter: errorReply(400, 'filter', 'This value should be a list of {field, operator, value}.'),
  invalidPagination: errorReply(400, 'limit', 'limit should be a positive integer and offset a non-negative integer.'),
  payloadTooLarge: errorReply(413, 'body', 'This value is too large.'),
  // Not documented: a route the API does not have, and a server fault. Neither says not_found.
  routeNotFound: errorReply(404, 'route', 'No route found.'),
  internalError: { status: 500, body: { errors: [{ code: 'internal_error', message: 'Internal server error' }] } },
} as const;

export type SandboxErrorName = keyof typeof SANDBOX_ERRORS;
/** A scripted answer; `{ error }` names one of SANDBOX_ERRORS. */
export type SandboxAnswer = ScriptedAnswer<SandboxErrorName>;
const ERROR_NAMES = Object.keys(SANDBOX_ERRORS) as SandboxErrorName[];

/** The route a request is for, by its method and the shape of its path (the id not yet checked). */
function routeOf(method: string, pathname: string): SandboxRoute | undefined {
  const [version, resource, id, sub, ...extra] = pathname.split('/').slice(1);
  if (version !== 'v1' || resource !== 'customers' || extra.length > 0) return undefined;
  if (id === undefined || id === '') return method === 'GET' && sub === undefined ? 'GET /v1/customers' : undefined;
  if (id === 'search' && sub === undefined && method === 'POST') return 'POST /v1/customers/search';
  if (sub === undefined) return method === 'GET' ? 'GET /v1/customers/:id' : undefined;
  if (sub !== 'tags') return undefined;
  return method === 'PUT'
    ? 'PUT /v1/customers/:id/tags'
    : method === 'DELETE'
      ? 'DELETE /v1/customers/:id/tags'
      : undefined;
}

/** A request body as read: its bytes, or none because it was over MAX_BODY_BYTES. */
type RawBody = Buffer | 'too large';

/** The body as the request log keeps it: JSON when it parses, else text; none when too long to keep. */
function recordedBody(raw: RawBody): unknown {
  if (raw === 'too large' || raw.length > RECORDED_BODY_BYTES) return undefined;
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function checkFaults(faults: Faults): Faults {
  for (const key of ['rate429', 'rate5xx', 'dropRate'] as const) {
    if (!(faults[key] >= 0 && faults[key] <= 1)) throw new RangeError(`${key} must be a probability in 0..1`);
  }
  if (!(faults.latencyMs >= 0)) throw new RangeError('latencyMs must be >= 0');
  if (faults.retryAfter !== 'none' && !(faults.retryAfter >= 0))
    throw new RangeError("retryAfter must be 'none' or >= 0");
  return faults;
}

/** A query-string or JSON pagination value; undefined when absent, NaN when malformed. */
function pageNumber(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return Number.NaN;
}

function paginate(customers: SandboxCustomer[], rawLimit: unknown, rawOffset: unknown): Reply {
  const limit = pageNumber(rawLimit) ?? DEFAULT_LIMIT;
  const offset = pageNumber(rawOffset) ?? 0;
  if (!(limit >= 1) || !(offset >= 0)) return SANDBOX_ERRORS.invalidPagination;
  const effectiveLimit = Math.min(limit, MAX_LIMIT);
  return {
    status: 200,
    body: { data: customers.slice(offset, offset + effectiveLimit).map(helpCrunchCustomer), total: customers.length },
  };
}

/** The `tags` of a tags body, or undefined when the body is not {tags:[{name, color?}, …]}. */
function parseTags(body: unknown): { name: string; color?: string }[] | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { tags } = body as Record<string, unknown>;
  if (!Array.isArray(tags) || tags.length === 0) return undefined;
  const parsed: { name: string; color?: string }[] = [];
  for (const tag of tags as unknown[]) {
    if (typeof tag !== 'object' || tag === null) return undefined;
    const { name, color } = tag as Record<string, unknown>;
    if (typeof name !== 'string' || name === '') return undefined;
    if (color !== undefined && typeof color !== 'string') return undefined;
    parsed.push(color === undefined ? { name } : { name, color });
  }
  return parsed;
}

/** A JSON body, or the error reply that describes why it is not one. */
function parseJson(raw: RawBody): { value: unknown } | { error: Reply } {
  if (raw === 'too large') return { error: SANDBOX_ERRORS.payloadTooLarge };
  try {
    return { value: JSON.parse(raw.toString('utf8')) };
  } catch {
    return { error: SANDBOX_ERRORS.invalidJson };
  }
}

/** Reads the whole body, keeping none of it past MAX_BODY_BYTES. */
async function readRawBody(req: IncomingMessage): Promise<RawBody> {
  try {
    return await readBody(req, MAX_BODY_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return 'too large';
    throw error;
  }
}

export async function startHelpCrunchSandbox(options: HelpCrunchSandboxOptions = {}): Promise<HelpCrunchSandbox> {
  const host = options.host ?? '127.0.0.1';
  const initialApiKey = options.apiKey ?? DEFAULT_SANDBOX_API_KEY;
  let apiKey = initialApiKey;
  const rateLimit = options.rateLimit ?? DEFAULT_RATE_LIMIT;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const initialCustomers = options.customers ?? loadDemoCustomers();
  const initialFaults = checkFaults({ ...NO_FAULTS, ...options.faults });

  const store = new CustomerStore(initialCustomers);
  let faults = initialFaults;
  const log = new BoundedLog<RequestRecord>(options.requestLogSize ?? 1000);
  const admitted = new SlidingWindow(rateLimit.windowMs);
  const arrivals = new SlidingWindow(rateLimit.windowMs);
  const listeners = new Set<(record: RequestRecord) => void>();
  let stats: SandboxStats = { total: 0, byStatus: {}, maxPerWindow: 0 };
  // Aborts injected latency on close, so no timer outlives the server.
  const shutdown = new AbortController();
  const script = new AnswerScript(
    { routes: SANDBOX_ROUTES, errors: ERROR_NAMES, errorReply: (name) => SANDBOX_ERRORS[name] },
    () => inspector.changed(),
  );

  const chance = (probability: number) => probability > 0 && random() < probability;

  /** 0 when the request fits in the window, else the ms until a slot frees. */
  function admit(at: number): number {
    if (admitted.count(at) < rateLimit.requests) {
      admitted.add(at);
      return 0;
    }
    return Math.max(1, admitted.msUntilOldestExpires(at));
  }

  /** Completes a request's record once its connection is done with it: status, time, stats, listeners. */
  function complete(entry: RequestRecord, status: number, ms: number, tags: string[] | undefined): void {
    Object.assign(entry, { status, ms }, tags && { tags });
    delete entry.pending;
    stats.total++;
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    for (const listener of listeners) listener(entry);
    inspector.changed();
  }

  function reset(customers: readonly SandboxCustomer[] = initialCustomers): void {
    apiKey = initialApiKey;
    store.replaceAll(customers);
    faults = initialFaults;
    script.clear();
    log.clear();
    admitted.clear();
    arrivals.clear();
    stats = { total: 0, byStatus: {}, maxPerWindow: 0 };
    inspector.changed();
  }

  function snapshotStats(): SandboxStats {
    return { ...stats, byStatus: { ...stats.byStatus } };
  }

  const inspector = createInspector({
    customers: () => store.all(),
    requests: () => log.toArray(),
    stats: snapshotStats,
    rateLimit,
    faults: () => faults,
    reset: async () => {
      reset();
      await options.onReset?.();
    },
    script: (body) => script.addFromBody(body),
    scripted: () => script.pending(),
    unscript: () => {
      script.clear();
      script.release();
    },
  });

  function parseId(raw: string): number | undefined {
    return /^[1-9]\d{0,15}$/.test(raw) ? Number(raw) : undefined;
  }

  /** What a request's record shows besides its line: a tags request's tag names. */
  interface Seen {
    tags?: string[];
  }

  function editTags(
    target: 'PUT /v1/customers/:id/tags' | 'DELETE /v1/customers/:id/tags',
    raw: RawBody,
    id: number,
    seen: Seen,
  ): Reply {
    const body = parseJson(raw);
    if ('error' in body) return body.error;
    const tags = parseTags(body.value);
    if (!tags) return SANDBOX_ERRORS.invalidTags;
    seen.tags = tags.map((tag) => tag.name);
    const updated =
      target === 'DELETE /v1/customers/:id/tags'
        ? store.removeTags(
            id,
            tags.map((tag) => tag.name),
          )
        : store.addTags(id, tags);
    return updated ? { status: 200, body: helpCrunchCustomer(updated) } : SANDBOX_ERRORS.customerNotFound;
  }

  function search(raw: RawBody): Reply {
    const body = parseJson(raw);
    if ('error' in body) return body.error;
    if (typeof body.value !== 'object' || body.value === null) return SANDBOX_ERRORS.invalidFilter;
    const { filter, comparison = 'AND', limit, offset } = body.value as Record<string, unknown>;
    const filters = parseSearchFilters(filter);
    if (!filters || (comparison !== 'AND' && comparison !== 'OR')) return SANDBOX_ERRORS.invalidFilter;
    return paginate(store.search(filters, comparison), limit, offset);
  }

  function route(route: SandboxRoute | undefined, url: URL, raw: RawBody, seen: Seen): Reply {
    switch (route) {
      case undefined:
        return SANDBOX_ERRORS.routeNotFound;
      case 'GET /v1/customers': {
        const { searchParams } = url;
        return paginate(store.all(), searchParams.get('limit') ?? undefined, searchParams.get('offset') ?? undefined);
      }
      case 'POST /v1/customers/search':
        return search(raw);
    }
    const id = parseId(url.pathname.split('/')[3]!);
    if (id === undefined) return SANDBOX_ERRORS.invalidId;
    if (route !== 'GET /v1/customers/:id') return editTags(route, raw, id, seen);
    const customer = store.get(id);
    return customer ? { status: 200, body: helpCrunchCustomer(customer) } : SANDBOX_ERRORS.customerNotFound;
  }

  /** The sandbox's own answer, after injected faults, the key and the rate limit; undefined when it dropped the connection. */
  async function answer(
    req: IncomingMessage,
    at: number,
    target: SandboxRoute | undefined,
    url: URL,
    raw: RawBody,
    seen: Seen,
  ): Promise<Reply | undefined> {
    if (faults.latencyMs > 0) {
      await delay(faults.latencyMs, undefined, { signal: shutdown.signal }).catch(() => undefined);
      if (shutdown.signal.aborted) return undefined;
    }
    if (chance(faults.dropRate)) {
      req.socket.destroy();
      return undefined;
    }
    if (chance(faults.rate429)) {
      const { retryAfter } = faults;
      return {
        ...SANDBOX_ERRORS.tooManyRequests,
        headers: retryAfter === 'none' ? {} : { 'retry-after': String(retryAfter) },
      };
    }
    if (chance(faults.rate5xx)) return SANDBOX_ERRORS.internalError;
    if (req.headers.authorization !== `Bearer ${apiKey}`) return SANDBOX_ERRORS.unauthorized;
    const waitMs = admit(at);
    if (waitMs > 0)
      return { ...SANDBOX_ERRORS.tooManyRequests, headers: { 'retry-after': String(Math.ceil(waitMs / 1000)) } };
    return route(target, url, raw, seen);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = now();
    const started = performance.now();
    const seen: Seen = {};
    arrivals.add(at);
    stats.maxPerWindow = Math.max(stats.maxPerWindow, arrivals.count(at));
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = req.method ?? '';
    const entry: RequestRecord = {
      method,
      path: (req.url ?? '').split('?')[0]!,
      status: 0,
      pending: true,
      at,
      ms: 0,
      headers: req.headers,
      body: undefined,
      remotePort: req.socket.remotePort,
    };
    log.push(entry);
    // 'close' fires for replies and for dropped, aborted or cut connections alike: one place completes all.
    res.once('close', () =>
      complete(entry, res.writableFinished ? res.statusCode : 0, performance.now() - started, seen.tags),
    );
    const raw = await readRawBody(req);
    entry.body = recordedBody(raw);
    const target = routeOf(method, url.pathname);
    await script.serve(req, res, target, () => answer(req, at, target, url, raw, seen));
  }

  const server = createServer((req, res) => {
    if (inspector.serve(req, res)) return;
    handle(req, res).catch(() => {
      sendJson(res, SANDBOX_ERRORS.internalError.status, SANDBOX_ERRORS.internalError.body);
    });
  });
  const port = await listen(server, host, options.port ?? 0);
  const closeServer = closerFor(server);

  return {
    url: `${baseUrl(host, port)}/v1`,
    port,
    get apiKey() {
      return apiKey;
    },
    rotateApiKey: (key) => {
      apiKey = key;
    },
    get requests() {
      return log.toArray().map((entry) => ({ ...entry }));
    },
    close: () => {
      shutdown.abort();
      script.close();
      inspector.close();
      return closeServer();
    },
    customers: () => store.all(),
    customer: (id) => store.get(id),
    setFaults: (changes) => {
      faults = checkFaults({ ...faults, ...changes });
      inspector.changed();
    },
    reset,
    stats: snapshotStats,
    onRequest: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    script: (target, ...answers) => script.add(target, answers),
    stalled: () => script.stalled(),
    release: () => script.release(),
  };
}
