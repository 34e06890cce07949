/**
 * A small programmable HelpCrunch stand-in on 127.0.0.1 for client tests: queued replies
 * (status, headers, JSON body, delay, or a dropped connection) and a record of every request.
 * The full sandbox lives in local/sandbox; this only answers what a test tells it to.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or the raw text when it is not JSON. */
  body: unknown;
  /** The client's port: equal ports mean a reused (keep-alive) connection. */
  remotePort?: number;
}

export type StubReply =
  | { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number }
  /** Destroys the socket without answering (the client sees ECONNRESET / socket hang up). */
  | { reset: true };

export interface HelpCrunchStub {
  url: string;
  requests: RecordedRequest[];
  /** Replies used in order, one per request. */
  enqueue(...replies: StubReply[]): void;
  /** Answers requests once the queue is empty (default: 200 {}). */
  fallback: (request: RecordedRequest) => StubReply;
  close(): Promise<void>;
}

export async function startHelpCrunchStub(): Promise<HelpCrunchStub> {
  const queue: StubReply[] = [];
  const stub: HelpCrunchStub = {
    url: '',
    requests: [],
    enqueue: (...replies) => queue.push(...replies),
    fallback: () => ({ status: 200, body: {} }),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    const recorded: RecordedRequest = {
      method: request.method ?? '',
      path: request.url ?? '',
      headers: request.headers,
      body,
      remotePort: request.socket.remotePort,
    };
    stub.requests.push(recorded);
    const reply = queue.shift() ?? stub.fallback(recorded);
    if ('reset' in reply) return request.socket.destroy();
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    if (response.destroyed) return; // the client gave up (timeout) while we waited
    response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    response.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return stub;
}
