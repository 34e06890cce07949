/** The node:http plumbing the local stand-ins share: listen, close, read a bounded body, write a reply. */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The body was longer than the reader allowed; the rest was read and discarded. */
export class BodyTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`Request body exceeds ${limitBytes} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** Starts listening and resolves with the bound port (port 0 picks a free one). */
export async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** http://host:port, with IPv6 hosts bracketed. */
export function baseUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * A close() that resolves once the port is free. Idle keep-alive sockets are cut, otherwise
 * server.close() would wait for clients' pools to time out; repeated calls share one promise.
 */
export function closerFor(server: Server): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });
    return closing;
  };
}

/**
 * Reads the whole body. Past `maxBytes` the bytes are drained but not kept (memory stays
 * bounded and the keep-alive connection stays usable), then BodyTooLargeError is thrown.
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= maxBytes) chunks.push(chunk);
  }
  if (size > maxBytes) throw new BodyTooLargeError(maxBytes);
  return Buffer.concat(chunks);
}

/** One answer: a string body is sent as it is, another body as JSON, none as an empty body. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The reply's body bytes and its headers, a content type added for a body that has none. */
export function encodeReply({ body, headers = {} }: Reply): { bytes: Buffer; headers: Record<string, string> } {
  if (body === undefined) return { bytes: Buffer.alloc(0), headers };
  const [bytes, type] =
    typeof body === 'string'
      ? [body, 'text/plain; charset=utf-8']
      : [JSON.stringify(body), 'application/json; charset=utf-8'];
  const typed = Object.keys(headers).some((name) => name.toLowerCase() === 'content-type');
  return { bytes: Buffer.from(bytes), headers: typed ? headers : { 'content-type': type, ...headers } };
}

/** Writes one reply, unless there is none or the connection is already gone. */
export function sendReply(res: ServerResponse, reply: Reply | undefined): void {
  if (!reply || res.headersSent || res.destroyed) return;
  const { bytes, headers } = encodeReply(reply);
  res.writeHead(reply.status, { ...headers, 'content-length': bytes.length });
  res.end(bytes);
}

/** Writes one JSON reply, unless the connection is already gone. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendReply(res, { status, body, headers });
}
