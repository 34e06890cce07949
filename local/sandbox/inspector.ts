/**
 * The sandbox's own read-only view, served beside the API but outside /v1 and without auth:
 *
 *   GET  /                  the page (inspector.html): customers with their tags, latest requests, live
 *   GET  /_sandbox/state    the same data as JSON (SandboxState)
 *   GET  /_sandbox/events   Server-Sent Events: one `state` event on connect, then one per change,
 *                           at most every PUSH_INTERVAL_MS however busy the API is
 *   POST /_sandbox/reset    restores the seed customers, clears log, stats, rate limit and scripted
 *                           answers, and resets what the stack resets with it; answers the state
 *   POST /_sandbox/script   queues scripted answers, body {"route"?: one of SANDBOX_ROUTES or "*",
 *                           "answers": [...]} (scripted-answers.ts); answers the state, or 400 {error}
 *   DELETE /_sandbox/script forgets the queued answers and lets stalled requests go on; answers the state
 *
 * These requests are not API traffic: they skip faults, auth and the rate limit, and are not
 * recorded, so watching the sandbox never changes what it reports. The page and the state show
 * requests without their headers and bodies (the headers carry the API key). Anything else,
 * /_sandbox/ paths included, is left to the API (which answers 401 or 404 outside /v1).
 *
 *   curl -X POST localhost:4010/_sandbox/script \
 *     -d '{"route":"DELETE /v1/customers/:id/tags","answers":[{"error":"tooManyRequests","retryAfter":5,"times":3}]}'
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxCustomer } from './customer-store';
import type { Faults, RateLimit, RequestLine, RequestRecord, SandboxStats } from './sandbox-types';
import { readBody, sendJson } from './http-server';
import type { PendingAnswer } from './scripted-answers';

export interface SandboxState {
  /** The first MAX_STATE_CUSTOMERS customers by id. */
  customers: SandboxCustomer[];
  customerCount: number;
  /** The latest MAX_STATE_REQUESTS requests, newest first. */
  requests: RequestLine[];
  stats: SandboxStats;
  rateLimit: RateLimit;
  faults: Faults;
  /** Scripted answers still queued. */
  scripted: PendingAnswer<string, string>[];
}

export interface InspectorSource {
  customers(): SandboxCustomer[];
  requests(): RequestRecord[];
  stats(): SandboxStats;
  rateLimit: RateLimit;
  faults(): Faults;
  /** Restores the sandbox, and whatever the stack resets with it. */
  reset(): Promise<void>;
  /** Queues the scripted answers a control request's body asks for; RangeError when it is malformed. */
  script(body: unknown): void;
  scripted(): PendingAnswer<string, string>[];
  unscript(): void;
}

export interface Inspector {
  /** Answers the request when it is one of the inspector's routes; false leaves it to the API. */
  serve(req: IncomingMessage, res: ServerResponse): boolean;
  /** Something the state shows changed: schedules a push to connected pages. */
  changed(): void;
  close(): void;
}

const MAX_STATE_CUSTOMERS = 500;
export const MAX_STATE_REQUESTS = 50;
const PUSH_INTERVAL_MS = 100;
const PAGE_URL = new URL('./inspector.html', import.meta.url);
const MAX_SCRIPT_BYTES = 64 * 1024;

/** A request as the page shows it: its line, without headers, body or port. */
function line({ headers: _headers, body: _body, remotePort: _port, ...shown }: RequestRecord): RequestLine {
  return shown;
}

export function createInspector(source: InspectorSource): Inspector {
  // Read per start rather than per request: cheap, and an edited page shows after a restart.
  const page = readFileSync(PAGE_URL);
  const streams = new Set<ServerResponse>();
  let pending: NodeJS.Timeout | undefined;

  function state(): SandboxState {
    const customers = source.customers();
    return {
      customers: customers.slice(0, MAX_STATE_CUSTOMERS),
      customerCount: customers.length,
      requests: source.requests().slice(-MAX_STATE_REQUESTS).reverse().map(line),
      stats: source.stats(),
      rateLimit: source.rateLimit,
      faults: source.faults(),
      scripted: source.scripted(),
    };
  }

  function push(): void {
    pending = undefined;
    const frame = `event: state\ndata: ${JSON.stringify(state())}\n\n`;
    for (const stream of streams) stream.write(frame);
  }

  function openStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    // A restarted sandbox is picked up again within a second.
    res.write('retry: 1000\n\n');
    res.write(`event: state\ndata: ${JSON.stringify(state())}\n\n`);
    streams.add(res);
    req.once('close', () => streams.delete(res));
  }

  async function addScript(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      source.script(JSON.parse((await readBody(req, MAX_SCRIPT_BYTES)).toString('utf8')));
    } catch (error) {
      const reason = error instanceof RangeError ? error.message : 'the body must be JSON of at most 64 KiB';
      return sendJson(res, 400, { error: reason });
    }
    sendJson(res, 200, state());
  }

  return {
    serve(req, res) {
      const route = `${req.method} ${(req.url ?? '/').split('?')[0]}`;
      if (route === 'GET /') {
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-length': page.length,
          'cache-control': 'no-store',
        });
        res.end(page);
      } else if (route === 'GET /_sandbox/state') {
        sendJson(res, 200, state(), { 'cache-control': 'no-store' });
      } else if (route === 'GET /_sandbox/events') {
        openStream(req, res);
      } else if (route === 'POST /_sandbox/reset') {
        // The body, if any, is ignored; drain it so the keep-alive connection stays usable.
        req.resume();
        source
          .reset()
          .then(() => sendJson(res, 200, state()))
          .catch(() => sendJson(res, 500, { error: 'reset failed' }));
      } else if (route === 'POST /_sandbox/script') {
        void addScript(req, res);
      } else if (route === 'DELETE /_sandbox/script') {
        req.resume();
        source.unscript();
        sendJson(res, 200, state());
      } else {
        return false;
      }
      return true;
    },
    changed() {
      if (streams.size > 0) pending ??= setTimeout(push, PUSH_INTERVAL_MS);
    },
    close() {
      clearTimeout(pending);
      pending = undefined;
      for (const stream of streams) stream.end();
      streams.clear();
    },
  };
}
