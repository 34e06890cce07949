/**
 * The sandbox's own read-only view, served beside the API but outside /v1 and without auth:
 *
 *   GET  /                  the page (inspector.html): customers with their tags, latest requests, live
 *   GET  /_sandbox/state    the same data as JSON (SandboxState)
 *   GET  /_sandbox/events   Server-Sent Events: one `state` event on connect, then one per change,
 *                           at most every PUSH_INTERVAL_MS however busy the API is
 *   POST /_sandbox/reset    restores the seed customers, clears log, stats and rate limit; answers the state
 *
 * These requests are not API traffic: they skip faults, auth and the rate limit, and are not
 * recorded, so watching the sandbox never changes what it reports. Anything else, /_sandbox/
 * paths included, is left to the API (which answers 401 or 404 outside /v1).
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxCustomer } from './customer-store';
import type { Faults, RateLimit, RequestRecord, SandboxStats } from './sandbox-types';
import { sendJson } from './http-server';

export interface SandboxState {
  /** The first MAX_STATE_CUSTOMERS customers by id. */
  customers: SandboxCustomer[];
  customerCount: number;
  /** The latest MAX_STATE_REQUESTS requests, newest first. */
  requests: RequestRecord[];
  stats: SandboxStats;
  rateLimit: RateLimit;
  faults: Faults;
}

export interface InspectorSource {
  customers(): SandboxCustomer[];
  requests(): RequestRecord[];
  stats(): SandboxStats;
  rateLimit: RateLimit;
  faults(): Faults;
  reset(): void;
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
      requests: source.requests().slice(-MAX_STATE_REQUESTS).reverse(),
      stats: source.stats(),
      rateLimit: source.rateLimit,
      faults: source.faults(),
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
        source.reset();
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
