/**
 * A local Secrets Manager that answers GetSecretValue the way @aws-sdk/client-secrets-manager
 * expects: the awsJson1_1 protocol (POST /, `content-type: application/x-amz-json-1.1`,
 * `x-amz-target: secretsmanager.<Operation>`). Point the real SDK at it with
 * AWS_ENDPOINT_URL_SECRETS_MANAGER=<url> (plus any region and dummy credentials; signatures are
 * not checked).
 *
 *   GetSecretValue {"SecretId": name or ARN}
 *     200 {ARN, Name, SecretString, VersionId, VersionStages:["AWSCURRENT"], CreatedDate (epoch seconds)}
 *   Errors are 400 with header `x-amzn-errortype: <type>` and body {"__type": type, "message"}:
 *     unknown secret -> ResourceNotFoundException; throttleNext(n) -> the next n calls get ThrottlingException;
 *     no SecretId -> InvalidParameterException; bad JSON -> SerializationException;
 *     any other operation -> UnknownOperationException.
 * calls() counts every GetSecretValue that named a secret, throttled or not found included, so a
 * test can assert how often a cache really fetched.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { baseUrl, closerFor, listen, readBody, sendJson } from './http-server';

export interface SecretsManagerEndpointOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Secret name -> SecretString. */
  secrets?: Record<string, string>;
  region?: string;
}

export interface SecretsManagerCalls {
  total: number;
  /** By secret name (or by the SecretId as sent, when it named no secret). */
  bySecret: Record<string, number>;
}

export interface SecretsManagerEndpoint {
  /** e.g. http://127.0.0.1:PORT — the value for AWS_ENDPOINT_URL_SECRETS_MANAGER. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  /** Creates the secret or stores a new version of it. Returns its ARN. */
  setSecret(name: string, value: string): string;
  calls(): SecretsManagerCalls;
  /** The next `count` GetSecretValue calls fail with ThrottlingException. */
  throttleNext(count: number): void;
}

/** The error types and messages the endpoint sends (status is always 400). */
export const SECRETS_MANAGER_ERRORS = {
  notFound: { type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." },
  throttling: { type: 'ThrottlingException', message: 'Rate exceeded' },
  missingSecretId: { type: 'InvalidParameterException', message: 'You must provide a SecretId.' },
  serialization: { type: 'SerializationException', message: 'Request body is not valid JSON' },
  unknownOperation: { type: 'UnknownOperationException', message: 'Only GetSecretValue is supported' },
} as const;

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const ACCOUNT_ID = '000000000000';
const MAX_BODY_BYTES = 64 * 1024;

interface StoredSecret {
  name: string;
  arn: string;
  value: string;
  versionId: string;
  createdDate: number;
}

function sendAws(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  sendJson(res, status, body, {
    'content-type': CONTENT_TYPE,
    'x-amzn-requestid': randomUUID(),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
}

function sendError(res: ServerResponse, { type, message }: { type: string; message: string }): void {
  sendAws(res, 400, { __type: type, message }, type);
}

export async function startSecretsManagerEndpoint(
  options: SecretsManagerEndpointOptions = {},
): Promise<SecretsManagerEndpoint> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? 'us-east-1';
  const byName = new Map<string, StoredSecret>();
  const bySecret: Record<string, number> = {};
  let total = 0;
  let throttled = 0;

  function setSecret(name: string, value: string): string {
    // Real ARNs end in a random 6-character suffix; derive it so it is stable per name.
    const suffix = createHash('sha256').update(name).digest('hex').slice(0, 6);
    const arn = `arn:aws:secretsmanager:${region}:${ACCOUNT_ID}:secret:${name}-${suffix}`;
    byName.set(name, { name, arn, value, versionId: randomUUID(), createdDate: Date.now() / 1000 });
    return arn;
  }

  function find(secretId: string): StoredSecret | undefined {
    return byName.get(secretId) ?? [...byName.values()].find((secret) => secret.arn === secretId);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
      return sendError(res, SECRETS_MANAGER_ERRORS.unknownOperation);
    }
    let body: unknown;
    try {
      body = JSON.parse((await readBody(req, MAX_BODY_BYTES)).toString('utf8'));
    } catch {
      return sendError(res, SECRETS_MANAGER_ERRORS.serialization);
    }
    const secretId = (body as { SecretId?: unknown } | null)?.SecretId;
    if (typeof secretId !== 'string' || secretId === '') return sendError(res, SECRETS_MANAGER_ERRORS.missingSecretId);

    const secret = find(secretId);
    const key = secret?.name ?? secretId;
    total++;
    bySecret[key] = (bySecret[key] ?? 0) + 1;
    if (throttled > 0) {
      throttled--;
      return sendError(res, SECRETS_MANAGER_ERRORS.throttling);
    }
    if (!secret) return sendError(res, SECRETS_MANAGER_ERRORS.notFound);
    sendAws(res, 200, {
      ARN: secret.arn,
      Name: secret.name,
      SecretString: secret.value,
      VersionId: secret.versionId,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: secret.createdDate,
    });
  }

  for (const [name, value] of Object.entries(options.secrets ?? {})) setSecret(name, value);
  const server = createServer((req, res) => {
    handle(req, res).catch(() => sendAws(res, 500, { __type: 'InternalServiceError', message: 'Internal error' }));
  });
  const port = await listen(server, host, options.port ?? 0);

  return {
    url: baseUrl(host, port),
    port,
    close: closerFor(server),
    setSecret,
    calls: () => ({ total, bySecret: { ...bySecret } }),
    throttleNext: (count) => {
      throttled = count;
    },
  };
}
