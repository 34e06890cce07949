/**
 * The TLS connections a function's first requests will need (Secrets Manager for the reads at
 * init, then the ledger and HelpCrunch, or SQS in queue mode), opened during init: a new connection
 * costs a TCP and a TLS round trip before the request's own, and at init they overlap one another
 * and the loading of the code instead of following them.
 *
 * `preconnect(url)` opens it and keeps it here; the first request a WarmAgent makes to that host
 * and port takes it (connected, or still handshaking: either way ahead of a new one). Where the
 * first requests go out together (the secret reads; the ledger's: a unit's start beside its
 * customer's lease), as many connections wait, one for each. An early connection is harmless and
 * silent when it fails: one that errors, closes, is not secure within its handshake deadline or
 * has waited too long for its request (a container initialised long before its first event, whose
 * server may have dropped the connection) is let go, and the request opens its own. Nothing is
 * logged: the request's own connection reports whatever is really wrong.
 */
import { Agent, type AgentOptions } from 'node:https';
import { isIP } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';

export interface PreconnectOptions {
  /** How long the TLS handshake may take before the connection is let go; default 3 s. */
  handshakeDeadlineMs?: number;
  /** How long the connection may wait for its first request; default 10 s. */
  maxWaitMs?: number;
  /** How many connections to keep waiting there (for first requests that go out together); default 1. */
  connections?: number;
}

interface EarlyConnection {
  socket: TLSSocket;
  /** The name it was opened for (SNI and certificate check): the host's. */
  servername: string;
  openedAt: number;
  maxWaitMs: number;
}

const early = new Map<string, EarlyConnection[]>();
const keyOf = (host: string, port: number) => `${host}:${port}`;
const ignore = () => undefined;

/** Opens connections for `url` (https only) until `connections` are waiting; never throws. */
export function preconnect(
  url: string | undefined,
  { handshakeDeadlineMs = 3_000, maxWaitMs = 10_000, connections = 1 }: PreconnectOptions = {},
): void {
  const target = url && URL.canParse(url) ? new URL(url) : undefined;
  if (target?.protocol !== 'https:') return;
  // URL keeps IPv6 hosts bracketed; sockets and agents take them bare.
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(target.port || 443);
  const key = keyOf(host, port);
  const waiting = early.get(key) ?? [];
  early.set(key, waiting);
  while (waiting.length < connections) waiting.push(open(host, port, key, handshakeDeadlineMs, maxWaitMs));
}

function open(host: string, port: number, key: string, handshakeDeadlineMs: number, maxWaitMs: number) {
  // What an https.Agent passes tls.connect for this URL: SNI for host names, none for IPs.
  const socket = connect({ host, port, ...(isIP(host) === 0 && { servername: host }) });
  const connection: EarlyConnection = { socket, servername: host, openedAt: Date.now(), maxWaitMs };
  const letGo = () => {
    const waiting = early.get(key);
    if (waiting?.includes(connection)) waiting.splice(waiting.indexOf(connection), 1);
    socket.destroy();
  };
  // Errors after the hand-over reach the request's own listeners too; this one only keeps an
  // early failure from being an unhandled 'error'.
  socket.on('error', ignore);
  socket.once('close', letGo);
  // Until the handshake is done the connection is idle only when stalled: then it is let go.
  socket.setTimeout(handshakeDeadlineMs, letGo);
  socket.once('secureConnect', () => socket.setTimeout(0));
  // Waiting here must not keep a process alive (the agent unrefs its idle sockets likewise).
  socket.unref();
  return connection;
}

/** preconnect() to each place `urls` names, one connection each time a URL is listed. */
export function preconnectAll(urls: (string | undefined)[]): void {
  const times = new Map<string, number>();
  for (const url of urls) if (url) times.set(url, (times.get(url) ?? 0) + 1);
  for (const [url, connections] of times) preconnect(url, { connections });
}

/** A waiting connection to host:port for that server name, if one is still usable; each is handed over once. */
function takeEarly(host: string, port: number, servername: string): TLSSocket | undefined {
  const waiting = early.get(keyOf(host, port)) ?? [];
  for (;;) {
    const index = waiting.findIndex((connection) => connection.servername === servername);
    if (index < 0) return undefined;
    const [{ socket, openedAt, maxWaitMs }] = waiting.splice(index, 1) as [EarlyConnection];
    if (socket.destroyed || socket.readableEnded || Date.now() - openedAt > maxWaitMs) {
      socket.destroy();
      continue;
    }
    socket.setTimeout(0);
    socket.ref();
    return socket;
  }
}

/**
 * A keep-alive https.Agent whose first request to a preconnected host and port takes the early
 * connection. Only agent options that do not change the TLS handshake are accepted, since the
 * early connection was made without them.
 */
export class WarmAgent extends Agent {
  constructor(
    options: Pick<AgentOptions, 'keepAlive' | 'keepAliveMsecs' | 'maxSockets' | 'maxFreeSockets' | 'timeout'> = {},
  ) {
    super(options);
  }

  override createConnection(
    options: Parameters<Agent['createConnection']>[0],
    callback?: (error: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    // The agent names the server after the Host header, or leaves the name empty for an IP.
    const { host, port = 443, servername } = options as typeof options & { servername?: string };
    const socket = host ? takeEarly(host, Number(port), servername || host) : undefined;
    if (!socket) return super.createConnection(options, callback);
    if (options.timeout) socket.setTimeout(options.timeout);
    return socket;
  }
}
