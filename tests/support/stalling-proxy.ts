/**
 * A TCP proxy on 127.0.0.1 in front of a real endpoint that can be told to stall: while stalled it
 * accepts connections and never answers (nor closes them), as a dependency that hangs does; once
 * released it forwards new connections again. Reached by the real SDK through its endpoint setting.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface StallingProxy {
  url: string;
  /**
   * true: open connections are closed (as a restarted service closes them) and new ones are accepted
   * and left unanswered; false: new connections are forwarded to the target.
   */
  stall(stalled: boolean): void;
  /** Connections accepted while stalled. */
  stalledConnections(): number;
  close(): Promise<void>;
}

export async function startStallingProxy(targetUrl: string): Promise<StallingProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  let stalled = false;
  let stalledConnections = 0;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    track(client);
    if (stalled) {
      stalledConnections++;
      return;
    }
    const upstream = connect(Number(target.port), target.hostname);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stall(value) {
      if (value && !stalled) for (const socket of sockets) socket.destroy();
      stalled = value;
    },
    stalledConnections: () => stalledConnections,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
