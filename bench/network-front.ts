/**
 * A realistic network in front of a loopback stand-in: TLS, and round trips that cost time.
 *
 *   measured process ──> latency relay ──> TLS server ──> stand-in (plain HTTP on loopback)
 *
 * The relay holds every chunk for half a round trip each way. Loopback completes the TCP handshake
 * at once where a real network takes a round trip, so the client's first chunk is also held until
 * a round trip after the connection was accepted: a client busy with other work when the
 * handshake would have completed loses nothing it would not lose on a real network. So a new
 * connection's TLS 1.3 handshake costs its round trip, every request/response one more, and the
 * first answer on a new connection comes three round trips after connect(), as from a server that
 * far away. Order is kept per direction.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type { BenchCertificates } from './certificates';

export interface FrontOptions {
  /** The stand-in, e.g. http://127.0.0.1:PORT. */
  target: string;
  roundTripMs: number;
  certificates: BenchCertificates;
}

export interface NetworkFront {
  /** https://127.0.0.1:PORT and the target's path (e.g. HelpCrunch's /v1): the address the measured process is given. */
  readonly url: string;
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** Runs actions in order, each no sooner than the time it was queued for. */
class DelayLine {
  private readonly queue: { at: number; run: () => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  push(delayMs: number, run: () => void): void {
    const last = this.queue[this.queue.length - 1]?.at ?? 0;
    this.queue.push({ at: Math.max(last, performance.now() + delayMs), run });
    this.schedule();
  }

  clear(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        // Timers keep whole milliseconds: what is due within the next one goes now.
        while (this.queue.length > 0 && this.queue[0]!.at <= performance.now() + 1) this.queue.shift()!.run();
        this.schedule();
      },
      Math.max(0, this.queue[0]!.at - performance.now()),
    );
  }
}

function closeServer(server: Server | TlsServer, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

function listen(server: Server | TlsServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

/**
 * Both ways between two sockets, each chunk (and the end) delayed by half the round trip; nothing
 * reaches the server before the TCP handshake would have completed.
 */
function relay(client: Socket, server: Socket, roundTripMs: number, sockets: Set<Socket>): void {
  const oneWayMs = roundTripMs / 2;
  const handshakeDoneAt = performance.now() + roundTripMs;
  const toServer = new DelayLine();
  const toClient = new DelayLine();
  for (const socket of [client, server]) {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  }
  client.on('data', (chunk: Buffer) =>
    toServer.push(Math.max(0, handshakeDoneAt - performance.now()) + oneWayMs, () => server.write(chunk)),
  );
  server.on('data', (chunk: Buffer) => toClient.push(oneWayMs, () => client.write(chunk)));
  client.on('end', () => toServer.push(oneWayMs, () => server.end()));
  server.on('end', () => toClient.push(oneWayMs, () => client.end()));
  const teardown = () => {
    toServer.clear();
    toClient.clear();
    client.destroy();
    server.destroy();
  };
  client.on('error', teardown).on('close', () => toServer.push(oneWayMs, () => server.destroy()));
  server.on('error', teardown).on('close', () => toClient.push(oneWayMs, () => client.destroy()));
}

export async function startNetworkFront({ target, roundTripMs, certificates }: FrontOptions): Promise<NetworkFront> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  // TLS terminates here; the stand-in behind it speaks plain HTTP, as it always does.
  // No Nagle anywhere: a small write held back for a delayed ACK would add ~40 ms no network has.
  const tlsServer = createTlsServer({ key: certificates.key, cert: certificates.cert, noDelay: true }, (clear) => {
    const plain = connect({ port: Number(upstream.port), host: upstream.hostname, noDelay: true });
    for (const socket of [clear, plain]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => {
        clear.destroy();
        plain.destroy();
      });
    }
    clear.pipe(plain).pipe(clear);
  });
  const tlsPort = await listen(tlsServer);
  let accepted = 0;
  const relayServer = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    accepted++;
    relay(
      client,
      connect({ port: tlsPort, host: '127.0.0.1', allowHalfOpen: true, noDelay: true }),
      roundTripMs,
      sockets,
    );
  });
  const port = await listen(relayServer);
  return {
    url: `https://127.0.0.1:${port}${upstream.pathname.replace(/\/$/, '')}`,
    port,
    connections: () => accepted,
    async close() {
      await Promise.all([closeServer(relayServer, sockets), closeServer(tlsServer, sockets)]);
    },
  };
}
