/**
 * A tiny Secrets Manager stand-in (awsJson1_1 GetSecretValue only) on 127.0.0.1, so tests can
 * drive the real SDK over HTTP via AWS_ENDPOINT_URL_SECRETS_MANAGER. The `secrets` record is read
 * per request, so a test changes (rotates, deletes) a secret by changing the record.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SecretsManagerStub {
  url: string;
  /** SecretIds asked for, in order. */
  requests: string[];
  /** Holds every request from now on unanswered; the returned function answers them all and stops holding. */
  hold(): () => void;
  /** Requests held and not yet answered. */
  held(): number;
  close(): Promise<void>;
}

async function readJson(request: IncomingMessage): Promise<{ SecretId?: string }> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { SecretId?: string };
}

export async function startSecretsManagerStub(secrets: Record<string, string>): Promise<SecretsManagerStub> {
  const requests: string[] = [];
  let holding: { waiting: (() => void)[] } | undefined;
  const server = createServer(async (request, response) => {
    const reply = (status: number, body: object, errorType?: string) => {
      response.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
      });
      response.end(JSON.stringify(errorType ? { __type: errorType, ...body } : body));
    };
    const { SecretId = '' } = await readJson(request);
    requests.push(SecretId);
    if (holding) await new Promise<void>((resolve) => holding!.waiting.push(resolve));
    if (request.method !== 'POST' || request.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
      return reply(400, { message: 'Only GetSecretValue is stubbed' }, 'InvalidRequestException');
    }
    const value = secrets[SecretId];
    if (value === undefined) {
      return reply(400, { message: "Secrets Manager can't find the specified secret." }, 'ResourceNotFoundException');
    }
    const arn = `arn:aws:secretsmanager:us-east-1:000000000000:secret:${SecretId}-AbCdEf`;
    reply(200, { ARN: arn, Name: SecretId, SecretString: value, VersionId: 'v1', CreatedDate: 0 });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    hold() {
      const hold = { waiting: [] as (() => void)[] };
      holding = hold;
      return () => {
        if (holding === hold) holding = undefined;
        for (const answer of hold.waiting.splice(0)) answer();
      };
    },
    held: () => holding?.waiting.length ?? 0,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
