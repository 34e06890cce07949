/**
 * The TLS connection opened at init (lib/http/warm-connection.ts): real TLS on loopback, with a CA made
 * for the run and trusted by this process as a public CA would be; the real webhook function and
 * the real HelpCrunch adapter. An early connection is taken by the first request; one refused,
 * slow, stalled or left waiting too long changes nothing for it, and nothing is logged.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createTcpServer, connect, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import axios from 'axios';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCertificates, type BenchCertificates } from '../bench/certificates';
import { startNetworkFront, type NetworkFront } from '../bench/network-front';
import { readConfig } from '../lib/config';
import { createNodeHttpAdapter } from '../lib/http/transport';
import { preconnect } from '../lib/http/warm-connection';
import { bundledRules } from '../lib/rules/bundled';
import { startHelpCrunchSandbox, type HelpCrunchSandbox } from '../local/sandbox/helpcrunch-sandbox';
import { startSecretsManagerEndpoint, type SecretsManagerEndpoint } from '../local/sandbox/secrets-manager-endpoint';
import { lambdaContext, webhookEvent } from './support/lambda-events';
import { useLocalLedger } from './support/ledger';
import { captureOutput, type CapturedOutput } from './support/local-aws';

const JSON_TYPE = { 'content-type': 'application/json' };
const certificatesDir = mkdtempSync(join(tmpdir(), 'warm-connection-ca-'));
let certificates: BenchCertificates;
const defaultCAs = getCACertificates('default');

beforeAll(() => {
  certificates = createCertificates(certificatesDir);
  setDefaultCACertificates([...defaultCAs, readFileSync(certificates.caFile, 'utf8')]);
});
afterAll(() => {
  setDefaultCACertificates(defaultCAs);
  rmSync(certificatesDir, { recursive: true, force: true });
});

async function until(condition: () => boolean) {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** The sockets this process opens from now on (net.connect and tls.connect publish each one). */
function watchClientSockets(): { sockets: Socket[]; stop(): void } {
  const sockets: Socket[] = [];
  const onSocket = (message: unknown) => sockets.push((message as { socket: Socket }).socket);
  subscribe('net.client.socket', onSocket);
  return { sockets, stop: () => unsubscribe('net.client.socket', onSocket) };
}

const closed = (socket: Socket) =>
  new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

describe('at init', () => {
  const API_KEY = 'warm-connection-key';
  const CRM_SECRET = 'warm-connection-crm-secret';
  let sandbox: HelpCrunchSandbox;
  let secrets: SecretsManagerEndpoint;
  let front: NetworkFront;
  let secretsFront: NetworkFront;
  let output: CapturedOutput;
  const savedEnv = { ...process.env };
  // What the webhook function reads at init in inline dispatch: every signing secret, the API key, every lookup's.
  const readAtInit = [
    ...new Set(['helpcrunch-untag/api-key', ...bundledRules.signingSecretIds(), ...bundledRules.lookupSecretIds()]),
  ];

  beforeAll(async () => {
    sandbox = await startHelpCrunchSandbox({ apiKey: API_KEY });
    secrets = await startSecretsManagerEndpoint({
      secrets: {
        ...Object.fromEntries(readAtInit.map((secretId) => [secretId, `value of ${secretId}`])),
        'helpcrunch-untag/api-key': API_KEY,
        'helpcrunch-untag/crm-webhook': CRM_SECRET,
      },
    });
    // HelpCrunch and Secrets Manager behind TLS; no added round trips. The ledger is plain HTTP on loopback.
    front = await startNetworkFront({ target: sandbox.url, roundTripMs: 0, certificates });
    secretsFront = await startNetworkFront({ target: secrets.url, roundTripMs: 0, certificates });
    await useLocalLedger();
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsFront.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test-access-key',
      AWS_SECRET_ACCESS_KEY: 'test-secret-key',
      HELPCRUNCH_API_URL: front.url,
      HELPCRUNCH_API_KEY_SECRET_ID: 'helpcrunch-untag/api-key',
      DISPATCH: 'inline',
    });
    output = captureOutput();
  });

  afterAll(async () => {
    output.restore();
    for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
    Object.assign(process.env, savedEnv);
    await front.close();
    await secretsFront.close();
    await secrets.close();
    await sandbox.close();
  });

  it('the webhook function connects to Secrets Manager and HelpCrunch while it loads, and its requests go over those connections', async () => {
    vi.resetModules();
    const opened = watchClientSockets();
    const { handler } = (await import('../functions/webhook')) as unknown as {
      handler: (event: unknown, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
    };
    // Every secret read once at init, each over a connection opened for it before the reads went out.
    await until(() => secrets.calls().total === readAtInit.length && front.connections() === 1);
    opened.stop();
    expect(Object.keys(secrets.calls().bySecret).sort()).toEqual([...readAtInit].sort());
    expect(secretsFront.connections()).toBe(readAtInit.length);
    // Secrets Manager's connections are opened first: the reads are the longest wait at init.
    const ports = opened.sockets.map((socket) => (socket as Socket & { remotePort?: number }).remotePort);
    const helpCrunchAt = ports.indexOf(front.port);
    const secretsAt = ports.flatMap((port, at) => (port === secretsFront.port ? [at] : []));
    expect(secretsAt).toHaveLength(readAtInit.length);
    expect(helpCrunchAt).toBeGreaterThan(Math.max(...secretsAt));

    const body = JSON.stringify({ status: 'lost', person: { email: 'ada@example.com' } });
    const signature = `sha256=${createHmac('sha256', CRM_SECRET).update(body).digest('hex')}`;
    const response = await handler(
      webhookEvent('http-api', { source: 'crm', body, headers: { 'X-Signature': signature } }),
      lambdaContext(),
    );

    expect(response.statusCode).toBe(200);
    expect((JSON.parse(response.body!) as { results: { status: string }[] }).results[0]!.status).toBe('untagged');
    // The search and the DELETE, both over the connection opened at init; no secret read again.
    expect(sandbox.requests.map((request) => request.method)).toEqual(['POST', 'DELETE']);
    expect(front.connections()).toBe(1);
    expect(secrets.calls().total).toBe(readAtInit.length);
    expect(secretsFront.connections()).toBe(readAtInit.length);
    expect(output.text()).not.toMatch(/"level":"(WARN|ERROR)"/);
  });
});

describe('where the early connections go', () => {
  it("is where the SDK's clients send their requests: each region's Secrets Manager and DynamoDB endpoints, or the endpoint variables'", () => {
    for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-2']) {
      const config = readConfig({ AWS_REGION: region });
      const endpoint = (client: SecretsManagerClient | DynamoDBClient) =>
        client.config.endpointProvider({ Region: region, UseFIPS: false, UseDualStack: false }).url.origin;
      expect(config.secretsUrl).toBe(endpoint(new SecretsManagerClient({ region })));
      expect(config.ledgerUrl).toBe(endpoint(new DynamoDBClient({ region })));
    }
    const local = readConfig({
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:4566',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
    });
    expect([local.secretsUrl, local.ledgerUrl]).toEqual(['http://127.0.0.1:4566', 'http://127.0.0.1:8000']);
  });
});

describe('the first request', () => {
  let server: HttpsServer;
  let url: string;
  let accepted: number;
  let output: CapturedOutput;
  const http = () => axios.create({ adapter: createNodeHttpAdapter(), validateStatus: () => true });

  async function listen(port = 0): Promise<void> {
    accepted = 0;
    server = createHttpsServer({ key: certificates.key, cert: certificates.cert }, (req, res) => {
      req.resume().on('end', () => res.writeHead(200, JSON_TYPE).end('{"ok":true}'));
    });
    server.on('connection', () => accepted++);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  beforeEach(() => {
    output = captureOutput();
  });
  afterEach(async () => {
    output.restore();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('takes the connection opened early, once', async () => {
    await listen();
    preconnect(`${url}/v1`);
    await until(() => accepted === 1);
    const client = http();

    expect((await client.get(`${url}/v1/customers/1`)).data).toEqual({ ok: true });
    expect((await client.get(`${url}/v1/customers/2`)).data).toEqual({ ok: true });
    expect(accepted).toBe(1);
    expect(output.text()).toBe('');
  });

  it('gives requests that go out together a connection each, when as many were opened early', async () => {
    await listen();
    preconnect(`${url}/v1`, { connections: 2 });
    await until(() => accepted === 2);
    const client = http();

    const answers = await Promise.all([client.get(`${url}/v1/a`), client.get(`${url}/v1/b`)]);
    expect(answers.map((answer) => answer.data)).toEqual([{ ok: true }, { ok: true }]);
    expect(accepted).toBe(2);
    // Asked again, none is opened beyond those still waiting (none are: both were taken).
    preconnect(`${url}/v1`, { connections: 2 });
    await until(() => accepted === 4);
    preconnect(`${url}/v1`, { connections: 2 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(accepted).toBe(4);
    expect(output.text()).toBe('');
  });

  it('opens its own when the early connection was refused, silently', async () => {
    // A port nothing listens on yet.
    await listen();
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const watch = watchClientSockets();
    preconnect(`https://127.0.0.1:${port}/v1`);
    watch.stop();
    await closed(watch.sockets[0]!);

    await listen(port);
    expect((await http().get(`${url}/v1/customers/1`)).data).toEqual({ ok: true });
    expect(accepted).toBe(1);
    expect(output.text()).toBe('');
  });

  it('waits for an early handshake still under way rather than opening a second connection', async () => {
    await listen();
    // TLS with every exchange 200 ms away, in front of plain HTTP: the request starts while the early handshake is under way.
    const plain = createHttpServer((req, res) =>
      req.resume().on('end', () => res.writeHead(200, JSON_TYPE).end('{"ok":true}')),
    );
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const target = `http://127.0.0.1:${(plain.address() as { port: number }).port}`;
    const slow = await startNetworkFront({ target, roundTripMs: 200, certificates });
    try {
      preconnect(slow.url);
      await until(() => slow.connections() === 1);

      expect((await http().get(`${slow.url}/v1/customers/1`)).data).toEqual({ ok: true });
      expect(slow.connections()).toBe(1);
      expect(output.text()).toBe('');
    } finally {
      await slow.close();
      plain.close();
    }
  });

  it('opens its own when the early handshake stalled past its deadline', async () => {
    await listen();
    // The first connection is accepted and never answered; later ones reach the TLS server.
    let connections = 0;
    const stalling: TcpServer = createTcpServer((socket) => {
      socket.on('error', () => undefined);
      if (++connections === 1) return;
      const upstream = connect((server.address() as { port: number }).port, '127.0.0.1');
      upstream.on('error', () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    const stallingUrl = `https://127.0.0.1:${(stalling.address() as { port: number }).port}`;
    try {
      const watch = watchClientSockets();
      preconnect(stallingUrl, { handshakeDeadlineMs: 50 });
      watch.stop();
      await closed(watch.sockets[0]!);

      expect((await http().get(`${stallingUrl}/v1/customers/1`)).data).toEqual({ ok: true });
      expect(connections).toBe(2);
      expect(output.text()).toBe('');
    } finally {
      stalling.close();
    }
  });

  it('opens its own when the early connection waited longer than allowed', async () => {
    await listen();
    const watch = watchClientSockets();
    preconnect(url, { maxWaitMs: 0 });
    watch.stop();
    const early = watch.sockets[0]!;
    await new Promise((resolve) => early.once('secureConnect', resolve));
    await new Promise((resolve) => setTimeout(resolve, 5));

    expect((await http().get(`${url}/v1/customers/1`)).data).toEqual({ ok: true });
    expect(accepted).toBe(2);
    expect(early.destroyed).toBe(true);
  });

  it('is not made for plain http, an unparseable URL or none, and never throws', async () => {
    await listen();
    const watch = watchClientSockets();
    expect(() => {
      preconnect(undefined);
      preconnect('');
      preconnect('api.helpcrunch.com/v1');
      preconnect(url.replace('https:', 'http:'));
    }).not.toThrow();
    watch.stop();
    expect(watch.sockets).toEqual([]);
  });
});
