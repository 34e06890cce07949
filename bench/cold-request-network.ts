/**
 * The stand-ins a cold request talks to (Secrets Manager, HelpCrunch, SQS with a jobs queue,
 * DynamoDB with the ledger's table), each
 * reachable two ways: directly over plain loopback, and through a network front (TLS, a round
 * trip per exchange; ./network-front.ts) with the round trip the service would have from Lambda.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSqsEndpoint, type SqsEndpoint } from '../local/sandbox/sqs-endpoint';
import { createCertificates } from './certificates';
import { startLocalServices } from './local-services';
import { startNetworkFront, type NetworkFront } from './network-front';

export type Service = 'secretsManager' | 'helpcrunch' | 'sqs' | 'dynamodb';
export type NetworkName = 'tls' | 'loopback';

/** Round trips in ms as seen from the function, e.g. Secrets Manager and DynamoDB in-region, HelpCrunch across the internet. */
export type RoundTrips = Record<Service, number>;

/** From Lambda: Secrets Manager, SQS and DynamoDB in-region, HelpCrunch across the internet. */
export const DEFAULT_ROUND_TRIPS: RoundTrips = { secretsManager: 20, helpcrunch: 60, sqs: 15, dynamodb: 8 };

export interface ServiceAddresses {
  /** Variables pointing a function at the services (endpoints, API URL, queue URL, CA). */
  env: Record<string, string>;
}

export interface ColdRequestNetwork {
  networks: Record<NetworkName, ServiceAddresses>;
  /** Which service a port belongs to, on either network. */
  serviceAt(port: number): Service | undefined;
  close(): Promise<void>;
}

// FIFO as deployed: the functions send each job with its group and deduplication ids.
const JOBS_QUEUE = 'jobs.fifo';

/**
 * SQS names a queue by a URL on its own endpoint, and the SDK sends a queue's requests to that
 * URL's host. Behind the front the function is given queue URLs on the front's address; this hop
 * hands the stand-in the queue URL it knows by (same path, its own address), byte for byte otherwise.
 */
async function queueUrlHop(endpoint: SqsEndpoint): Promise<{ url: string; close(): Promise<void> }> {
  const agent = new Agent({ keepAlive: true });
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    let text = body.toString('utf8');
    try {
      const input = JSON.parse(text) as { QueueUrl?: unknown };
      if (typeof input.QueueUrl === 'string' && URL.canParse(input.QueueUrl)) {
        text = JSON.stringify({ ...input, QueueUrl: `${endpoint.url}${new URL(input.QueueUrl).pathname}` });
      }
    } catch {
      // Not JSON: the stand-in answers it as SQS would.
    }
    const headers = { ...req.headers, 'content-length': String(Buffer.byteLength(text)) };
    const upstream = request(endpoint.url, { method: req.method, path: req.url, headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    upstream.end(text);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => forward(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => {
      agent.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export async function startColdRequestNetwork(roundTrips: RoundTrips): Promise<ColdRequestNetwork> {
  const services = await startLocalServices();
  const sqs = await startSqsEndpoint({ queues: [{ name: JOBS_QUEUE, fifo: true, visibilityTimeoutSeconds: 30 }] });
  const hop = await queueUrlHop(sqs);
  const certificatesDir = mkdtempSync(join(tmpdir(), 'helpcrunch-bench-ca-'));
  const certificates = createCertificates(certificatesDir);
  const front = (target: string, roundTripMs: number) => startNetworkFront({ target, roundTripMs, certificates });
  const fronts: Record<Service, NetworkFront> = {
    secretsManager: await front(services.secrets.url, roundTrips.secretsManager),
    helpcrunch: await front(services.sandbox.url, roundTrips.helpcrunch),
    sqs: await front(hop.url, roundTrips.sqs),
    dynamodb: await front(services.dynamoDb.url, roundTrips.dynamodb),
  };
  const queuePath = new URL(sqs.queueUrl(JOBS_QUEUE)).pathname;
  const addresses = (urls: Record<Service, string>, extra: Record<string, string> = {}): ServiceAddresses => ({
    env: {
      ...services.env,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: urls.secretsManager,
      AWS_ENDPOINT_URL_SQS: urls.sqs,
      AWS_ENDPOINT_URL_DYNAMODB: urls.dynamodb,
      HELPCRUNCH_API_URL: urls.helpcrunch,
      JOBS_QUEUE_URL: `${urls.sqs}${queuePath}`,
      ...extra,
    },
  });
  const ports = new Map<number, Service>([
    [Number(new URL(services.secrets.url).port), 'secretsManager'],
    [Number(new URL(services.sandbox.url).port), 'helpcrunch'],
    [sqs.port, 'sqs'],
    [services.dynamoDb.port, 'dynamodb'],
    ...Object.entries(fronts).map(([service, { port }]) => [port, service as Service] as const),
  ]);
  return {
    networks: {
      loopback: addresses({
        secretsManager: services.secrets.url,
        helpcrunch: services.sandbox.url,
        sqs: sqs.url,
        dynamodb: services.dynamoDb.url,
      }),
      tls: addresses(
        Object.fromEntries(Object.entries(fronts).map(([service, { url }]) => [service, url])) as Record<
          Service,
          string
        >,
        { NODE_EXTRA_CA_CERTS: certificates.caFile },
      ),
    },
    serviceAt: (port) => ports.get(port),
    async close() {
      await Promise.all(Object.values(fronts).map((f) => f.close()));
      await hop.close();
      await sqs.close();
      await services.close();
      rmSync(certificatesDir, { recursive: true, force: true });
    },
  };
}
