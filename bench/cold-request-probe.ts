/**
 * One cold request, in a fresh Node process started as Lambda starts the function: imports the
 * handler, invokes it once, and reports when each step happened on the system's monotonic clock
 * (the parent's too), with every connection and HTTP request the function made on the way.
 *
 *   node <lambda flags> cold-request-probe.mjs <handler.mjs> <request.json> <out.json>
 *
 * The probe itself loads nothing the handler might need (Node built-ins through
 * process.getBuiltinModule, which builds no ES module namespace): what the handler loads, it pays for.
 */
import type { Context } from 'aws-lambda';
import { lambdaContext } from './lambda-context';

/** What the parent hands the probe: the event, and the context's fields. */
export interface ProbeRequest {
  event: unknown;
  functionName: string;
  timeoutMs: number;
  awsRequestId: string;
}

export interface ProbeConnection {
  startedAt: number;
  connectedAt?: number;
  /** TLS only: when the handshake was done. */
  secureAt?: number;
  port?: number;
}

export interface ProbeRequestTimes {
  method: string;
  /** From the Host header; the service behind it is the parent's to name. */
  port: number;
  startedAt: number;
  /** When the answer's headers were in. */
  answeredAt?: number;
  status?: number;
  /** Index into connections: the one the request went over. */
  connection?: number;
}

export interface ProbeReport {
  startedAt: number;
  importedAt: number;
  answeredAt: number;
  response: unknown;
  connections: ProbeConnection[];
  requests: ProbeRequestTimes[];
}

const now = () => Number(process.hrtime.bigint()) / 1e6;
const startedAt = now();

const fs = process.getBuiltinModule('node:fs');
const channels = process.getBuiltinModule('node:diagnostics_channel');
const connections: ProbeConnection[] = [];
const bySocket = new WeakMap<object, number>();
const requests: ProbeRequestTimes[] = [];
const byRequest = new WeakMap<object, ProbeRequestTimes>();

interface ObservedSocket {
  remotePort?: number;
  once(event: string, listener: () => void): unknown;
}
interface ObservedRequest {
  method: string;
  socket: object | null;
  getHeader(name: string): unknown;
  once(event: 'socket', listener: (socket: object) => void): unknown;
}

channels.subscribe('net.client.socket', (message) => {
  const socket = (message as { socket: ObservedSocket }).socket;
  const connection: ProbeConnection = { startedAt: now() };
  bySocket.set(socket, connections.push(connection) - 1);
  socket.once('connect', () => {
    connection.connectedAt = now();
    connection.port = socket.remotePort;
  });
  socket.once('secureConnect', () => (connection.secureAt = now()));
});
channels.subscribe('http.client.request.start', (message) => {
  const request = (message as { request: ObservedRequest }).request;
  const port = Number(/:(\d+)$/.exec(String(request.getHeader('host')))?.[1] ?? 0);
  const times: ProbeRequestTimes = { method: request.method, port, startedAt: now() };
  requests.push(times);
  byRequest.set(request, times);
  // An agent's socket may be assigned before the request starts.
  if (request.socket) times.connection = bySocket.get(request.socket);
  else request.once('socket', (socket) => (times.connection = bySocket.get(socket)));
});
channels.subscribe('http.client.response.finish', (message) => {
  const { request, response } = message as { request: object; response: { statusCode?: number } };
  const times = byRequest.get(request);
  if (!times) return;
  times.answeredAt = now();
  times.status = response.statusCode;
});

const [entry, requestFile, outFile] = process.argv.slice(2);
if (!entry || !requestFile || !outFile)
  throw new Error('usage: cold-request-probe <handler.mjs> <request.json> <out.json>');
const request = JSON.parse(fs.readFileSync(requestFile, 'utf8')) as ProbeRequest;

const { handler } = (await import(entry)) as { handler: (event: unknown, context: Context) => Promise<unknown> };
const importedAt = now();
const context = lambdaContext(request.functionName, request.timeoutMs, request.awsRequestId);
const response = await handler(request.event, context);
const answeredAt = now();

const report: ProbeReport = { startedAt, importedAt, answeredAt, response, connections, requests };
fs.writeFileSync(outFile, JSON.stringify(report));
// Keep-alive sockets would hold the process open, as they hold a Lambda container between events.
process.exit(0);
