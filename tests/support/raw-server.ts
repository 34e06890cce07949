/**
 * A loopback HTTP server that answers exactly what a test queues, byte for byte: statuses and
 * bodies no vendor stand-in speaks (an empty 200, a 204, a malformed record). Replies are used in
 * turn, the last one repeating; every request's path and headers are recorded.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach } from 'vitest';

export interface RawReply {
  status: number;
  /** Sent as it is; no body when undefined. */
  body?: string;
  headers?: Record<string, string>;
}

export const jsonReply = (status: number, body: unknown): RawReply => ({ status, body: JSON.stringify(body) });

/** The server for the enclosing describe block, emptied before each test (it then answers 200 `{}`). */
export function useRawServer() {
  const raw = {
    origin: '',
    requests: [] as { path: string; headers: IncomingHttpHeaders }[],
    replies: [] as RawReply[],
  };
  let server: Server;
  beforeAll(async () => {
    server = createServer((req, res) => {
      raw.requests.push({ path: req.url ?? '', headers: req.headers });
      const reply = (raw.replies.length > 1 ? raw.replies.shift() : raw.replies[0]) ?? jsonReply(200, {});
      req.resume();
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(reply.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    raw.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    raw.requests.length = 0;
    raw.replies = [];
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return raw;
}
