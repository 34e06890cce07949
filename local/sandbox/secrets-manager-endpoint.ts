/**
 * A local Secrets Manager that answers GetSecretValue the way @aws-sdk/client-secrets-manager
 * expects: the awsJson1_1 protocol (POST /, `content-type: application/x-amz-json-1.1`,
 * `x-amz-target: secretsmanager.<Operation>`). Point the real SDK at it with
 * AWS_ENDPOINT_URL_SECRETS_MANAGER=<url>, or the client's `endpoint` (plus any region and dummy
 * credentials; signatures are not checked).
 *
 *   GetSecretValue {"SecretId": name or ARN}
 *     200 {ARN, Name, SecretString or SecretBinary (base64), VersionId, VersionStages:["AWSCURRENT"],
 *          CreatedDate (epoch seconds)}
 *   Errors carry header `x-amzn-errortype: <type>` and body {"__type": type, "message"}, with the
 *   status of the Secrets Manager API Reference (Common Errors; GetSecretValue, Errors):
 *     unknown secret -> 400 ResourceNotFoundException; no SecretId -> 400 InvalidParameterException;
 *     bad JSON -> 400 SerializationException; any other operation -> 400 UnknownOperationException.
 *
 * script() queues scripted answers (scripted-answers.ts) per secret (its name; an unknown SecretId
 * as sent) or for any call: the service's errors by name (SECRETS_MANAGER_ERRORS: AccessDenied,
 * DecryptionFailure, Throttling, InternalServiceError, ResourceNotFound), a stall held until
 * release(), a dropped connection. calls() counts every GetSecretValue that named a secret,
 * scripted, throttled or not found included, so a test can assert how often a cache really fetched.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { baseUrl, closerFor, listen, type Reply, readBody, sendReply } from './http-server';
import { AnswerScript, type ScriptedAnswer } from './scripted-answers';

export interface SecretsManagerEndpointOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Secret name -> its value: a string is a SecretString, bytes a SecretBinary. */
  secrets?: Record<string, string | Uint8Array>;
  region?: string;
}

export interface SecretsManagerCalls {
  total: number;
  /** By secret name (or by the SecretId as sent, when it named no secret). */
  bySecret: Record<string, number>;
}

export type SecretsManagerErrorName = (typeof SECRETS_MANAGER_ERRORS)[keyof typeof SECRETS_MANAGER_ERRORS]['type'];
/** A scripted answer; `{ error }` names one of the service's error types, e.g. 'AccessDeniedException'. */
export type SecretsManagerAnswer = ScriptedAnswer<SecretsManagerErrorName>;

export interface SecretsManagerEndpoint {
  /** e.g. http://127.0.0.1:PORT — the value for AWS_ENDPOINT_URL_SECRETS_MANAGER. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  /** Creates the secret or stores a new version of it (bytes: a binary secret). Returns its ARN. */
  setSecret(name: string, value: string | Uint8Array): string;
  /** Deletes the secret: reads of it then answer ResourceNotFoundException. */
  deleteSecret(name: string): void;
  calls(): SecretsManagerCalls;
  /** Queues answers for the next reads of `secret` (its name; '*': any read), before the endpoint answers on its own. */
  script(secret: string, ...answers: SecretsManagerAnswer[]): void;
  /** Forgets every queued answer (held reads stay held: see release). */
  clearScript(): void;
  /** Reads a `stall` answer holds now. */
  stalled(): number;
  /** Lets every held read go on to the endpoint's own answer. */
  release(): void;
}

/**
 * The errors the endpoint sends. Statuses and descriptions as the Secrets Manager API Reference
 * lists them (Common Errors); ThrottlingException's message is the service's own. The reference
 * gives InternalServiceError as 500 in one version and 400 in another; the SDK models it as a
 * server fault, which 500 keeps.
 */
export const SECRETS_MANAGER_ERRORS = {
  notFound: {
    status: 400,
    type: 'ResourceNotFoundException',
    message: "Secrets Manager can't find the specified secret.",
  },
  accessDenied: {
    status: 400,
    type: 'AccessDeniedException',
    message: 'You do not have sufficient access to perform this action.',
  },
  decryptionFailure: {
    status: 400,
    type: 'DecryptionFailure',
    message: "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
  },
  throttling: { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' },
  internalServiceError: { status: 500, type: 'InternalServiceError', message: 'An error occurred on the server side.' },
  missingSecretId: { status: 400, type: 'InvalidParameterException', message: 'You must provide a SecretId.' },
  serialization: { status: 400, type: 'SerializationException', message: 'Request body is not valid JSON' },
  unknownOperation: { status: 400, type: 'UnknownOperationException', message: 'Only GetSecretValue is supported' },
} as const;

const ERRORS_BY_TYPE = new Map(Object.values(SECRETS_MANAGER_ERRORS).map((error) => [error.type, error]));
const ERROR_TYPES = [...ERRORS_BY_TYPE.keys()];
const CONTENT_TYPE = 'application/x-amz-json-1.1';
const ACCOUNT_ID = '000000000000';
const MAX_BODY_BYTES = 64 * 1024;

interface StoredSecret {
  name: string;
  arn: string;
  value: string | Uint8Array;
  versionId: string;
  createdDate: number;
}

function awsReply(status: number, body: unknown, errorType?: string): Reply {
  return {
    status,
    body,
    headers: {
      'content-type': CONTENT_TYPE,
      'x-amzn-requestid': randomUUID(),
      ...(errorType && { 'x-amzn-errortype': errorType }),
    },
  };
}

function errorReply({ status, type, message }: { status: number; type: string; message: string }): Reply {
  return awsReply(status, { __type: type, message }, type);
}

/** A read as it arrived: the secret it names, or the error its request earns before any secret is looked up. */
type Read = { secretId: string } | { error: Reply };

async function parseRead(req: IncomingMessage): Promise<Read> {
  if (req.method !== 'POST' || req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
    req.resume();
    return { error: errorReply(SECRETS_MANAGER_ERRORS.unknownOperation) };
  }
  let body: unknown;
  try {
    body = JSON.parse((await readBody(req, MAX_BODY_BYTES)).toString('utf8'));
  } catch {
    return { error: errorReply(SECRETS_MANAGER_ERRORS.serialization) };
  }
  const secretId = (body as { SecretId?: unknown } | null)?.SecretId;
  if (typeof secretId !== 'string' || secretId === '')
    return { error: errorReply(SECRETS_MANAGER_ERRORS.missingSecretId) };
  return { secretId };
}

export async function startSecretsManagerEndpoint(
  options: SecretsManagerEndpointOptions = {},
): Promise<SecretsManagerEndpoint> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? 'us-east-1';
  const byName = new Map<string, StoredSecret>();
  const bySecret: Record<string, number> = {};
  let total = 0;
  const script = new AnswerScript<string, SecretsManagerErrorName>({
    // Any secret, known or not yet: a read of a missing secret can be scripted too.
    routes: (route): route is string => route !== '',
    errors: ERROR_TYPES,
    errorReply: (type) => errorReply(ERRORS_BY_TYPE.get(type)!),
  });

  function setSecret(name: string, value: string | Uint8Array): string {
    // Real ARNs end in a random 6-character suffix; derive it so it is stable per name.
    const suffix = createHash('sha256').update(name).digest('hex').slice(0, 6);
    const arn = `arn:aws:secretsmanager:${region}:${ACCOUNT_ID}:secret:${name}-${suffix}`;
    byName.set(name, { name, arn, value, versionId: randomUUID(), createdDate: Date.now() / 1000 });
    return arn;
  }

  function find(secretId: string): StoredSecret | undefined {
    return byName.get(secretId) ?? [...byName.values()].find((secret) => secret.arn === secretId);
  }

  /** GetSecretValue's own answer, looked up when it is given (after a stall, the secret as it is then). */
  function answer(secretId: string): Reply {
    const secret = find(secretId);
    if (!secret) return errorReply(SECRETS_MANAGER_ERRORS.notFound);
    const value =
      typeof secret.value === 'string'
        ? { SecretString: secret.value }
        : { SecretBinary: Buffer.from(secret.value).toString('base64') };
    return awsReply(200, {
      ARN: secret.arn,
      Name: secret.name,
      ...value,
      VersionId: secret.versionId,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: secret.createdDate,
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const read = await parseRead(req);
    if ('error' in read) return sendReply(res, read.error);
    const name = find(read.secretId)?.name ?? read.secretId;
    total++;
    bySecret[name] = (bySecret[name] ?? 0) + 1;
    await script.serve(req, res, name, async () => answer(read.secretId));
  }

  for (const [name, value] of Object.entries(options.secrets ?? {})) setSecret(name, value);
  const server = createServer((req, res) => {
    handle(req, res).catch(() => sendReply(res, errorReply(SECRETS_MANAGER_ERRORS.internalServiceError)));
  });
  const port = await listen(server, host, options.port ?? 0);
  const closeServer = closerFor(server);

  return {
    url: baseUrl(host, port),
    port,
    close: () => {
      script.close();
      return closeServer();
    },
    setSecret,
    deleteSecret: (name) => {
      byName.delete(name);
    },
    calls: () => ({ total, bySecret: { ...bySecret } }),
    script: (secret, ...answers) => script.add(secret, answers),
    clearScript: () => script.clear(),
    stalled: () => script.stalled(),
    release: () => script.release(),
  };
}
