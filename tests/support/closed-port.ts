/** A loopback address where nothing listens: connecting to it is refused (ECONNREFUSED). */
import { createServer, type AddressInfo } from 'node:net';

/** http://127.0.0.1:<a port that was free a moment ago and is closed again>. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}
