import {
  DecryptionFailure,
  GetSecretValueCommand,
  InternalServiceError,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SECRETS_MANAGER_ERRORS, startSecretsManagerEndpoint } from '../local/sandbox/secrets-manager-endpoint';
import type { SecretsManagerEndpoint } from '../local/sandbox/secrets-manager-endpoint';

const SDK_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDSANDBOXDUMMY',
  AWS_SECRET_ACCESS_KEY: 'sandbox-dummy-secret',
} as const;

let endpoint: SecretsManagerEndpoint;
let savedEnv: Record<string, string | undefined>;

beforeEach(async () => {
  endpoint = await startSecretsManagerEndpoint({ secrets: { 'helpcrunch/api-key': 'hc-key-1' } });
  const env = { ...SDK_ENV, AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint.url };
  savedEnv = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
});

afterEach(async () => {
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await endpoint.close();
});

/** A raw awsJson1_1 call, to check bytes the SDK would hide. */
function rawCall(body: string, target = 'secretsmanager.GetSecretValue') {
  return fetch(`${endpoint.url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
    body,
  });
}

describe('Secrets Manager endpoint with the real AWS SDK', () => {
  it('returns the secret string, name, ARN and version through GetSecretValue', async () => {
    const before = Date.now();
    const result = await new SecretsManagerClient({}).send(
      new GetSecretValueCommand({ SecretId: 'helpcrunch/api-key' }),
    );

    expect(result.SecretString).toBe('hc-key-1');
    expect(result.Name).toBe('helpcrunch/api-key');
    expect(result.ARN).toMatch(
      /^arn:aws:secretsmanager:us-east-1:000000000000:secret:helpcrunch\/api-key-[0-9a-f]{6}$/,
    );
    expect(result.VersionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.VersionStages).toEqual(['AWSCURRENT']);
    expect(result.CreatedDate).toBeInstanceOf(Date);
    expect(result.CreatedDate!.getTime()).toBeGreaterThanOrEqual(before - 5_000);
    expect(result.$metadata.httpStatusCode).toBe(200);
    expect(endpoint.calls()).toEqual({ total: 1, bySecret: { 'helpcrunch/api-key': 1 } });
  });

  it('finds a secret by its ARN too', async () => {
    const arn = endpoint.setSecret('other', 'v');
    const result = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: arn }));
    expect(result.SecretString).toBe('v');
    expect(endpoint.calls().bySecret).toEqual({ other: 1 });
  });

  it('serves a new version after setSecret', async () => {
    const client = new SecretsManagerClient({});
    const first = await client.send(new GetSecretValueCommand({ SecretId: 'helpcrunch/api-key' }));
    endpoint.setSecret('helpcrunch/api-key', 'hc-key-2');
    const second = await client.send(new GetSecretValueCommand({ SecretId: 'helpcrunch/api-key' }));
    expect(second.SecretString).toBe('hc-key-2');
    expect(second.VersionId).not.toBe(first.VersionId);
    expect(endpoint.calls().bySecret['helpcrunch/api-key']).toBe(2);
  });

  it('raises ResourceNotFoundException with the AWS message for an unknown secret', async () => {
    const call = new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: 'missing' }));
    await expect(call).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(call).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
      $metadata: { httpStatusCode: 400 },
    });
    expect(endpoint.calls()).toEqual({ total: 1, bySecret: { missing: 1 } });
  });

  it('throttles exactly the scripted calls: without retries the SDK surfaces ThrottlingException', async () => {
    endpoint.script('*', { error: 'ThrottlingException' });
    const client = new SecretsManagerClient({ maxAttempts: 1 });
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'helpcrunch/api-key' }))).rejects.toMatchObject({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
      $metadata: { httpStatusCode: 400 },
    });
    const after = await client.send(new GetSecretValueCommand({ SecretId: 'helpcrunch/api-key' }));
    expect(after.SecretString).toBe('hc-key-1');
    expect(endpoint.calls().total).toBe(2);
  });

  it('lets the SDK retry a throttled call and succeed (each attempt counted)', async () => {
    endpoint.script('*', { error: 'ThrottlingException' });
    const result = await new SecretsManagerClient({ maxAttempts: 2 }).send(
      new GetSecretValueCommand({ SecretId: 'helpcrunch/api-key' }),
    );
    expect(result.SecretString).toBe('hc-key-1');
    expect(endpoint.calls().total).toBe(2);
  }, 15_000);
});

describe('Secrets Manager endpoint, scripted and stored as the service can be', () => {
  const client = () => new SecretsManagerClient({ maxAttempts: 1 });
  const read = (SecretId = 'helpcrunch/api-key') => client().send(new GetSecretValueCommand({ SecretId }));

  it.each([
    // AccessDenied and Throttling are common errors the SDK does not model: a service exception by that name.
    ['AccessDeniedException', 400, 'client', undefined],
    ['DecryptionFailure', 400, 'client', DecryptionFailure],
    ['ResourceNotFoundException', 400, 'client', ResourceNotFoundException],
    ['ThrottlingException', 400, 'client', undefined],
    ['InternalServiceError', 500, 'server', InternalServiceError],
  ] as const)('raises %s (HTTP %i, a %s fault) through the real SDK', async (type, status, fault, errorClass) => {
    endpoint.script('*', { error: type });
    const error = await read().catch((e: unknown) => e);

    if (errorClass) expect(error).toBeInstanceOf(errorClass);
    expect(error).toMatchObject({ name: type, $fault: fault, $metadata: { httpStatusCode: status } });
    expect((error as Error).message).toBe(Object.values(SECRETS_MANAGER_ERRORS).find((e) => e.type === type)!.message);
    expect(endpoint.calls().total).toBe(1);
  });

  it('scripts reads of one secret only, by its name even when read by ARN; others answer as stored', async () => {
    const arn = endpoint.setSecret('crm/webhook', 'crm-1');
    endpoint.script('crm/webhook', { error: 'AccessDeniedException', times: 2 });

    await expect(read(arn)).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect((await read()).SecretString).toBe('hc-key-1');
    await expect(read('crm/webhook')).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect((await read('crm/webhook')).SecretString).toBe('crm-1');
  });

  it('answers a binary secret with SecretBinary only', async () => {
    endpoint.setSecret('binary', new Uint8Array([1, 2, 3]));
    const result = await read('binary');

    expect(result.SecretBinary).toEqual(new Uint8Array([1, 2, 3]));
    expect(result.SecretString).toBeUndefined();
    const raw = (await (await rawCall('{"SecretId":"binary"}')).json()) as Record<string, unknown>;
    expect(raw.SecretBinary).toBe('AQID');
    expect(raw).not.toHaveProperty('SecretString');
  });

  it('forgets a deleted secret', async () => {
    endpoint.deleteSecret('helpcrunch/api-key');
    await expect(read()).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('holds a stalled read until release(), then answers with the secret as it is then', async () => {
    endpoint.script('*', { stall: true, times: 'always' });
    const pending = read();
    await expect.poll(() => endpoint.stalled()).toBe(1);
    endpoint.setSecret('helpcrunch/api-key', 'hc-key-2');
    endpoint.clearScript();
    endpoint.release();

    expect((await pending).SecretString).toBe('hc-key-2');
    expect(endpoint.calls().total).toBe(1);
  });

  it('lets a read the SDK gives up on go, without answering it', async () => {
    endpoint.script('*', { stall: true });
    await expect(
      client().send(new GetSecretValueCommand({ SecretId: 'helpcrunch/api-key' }), {
        abortSignal: AbortSignal.timeout(100),
      }),
    ).rejects.toThrow();
    await expect.poll(() => endpoint.stalled()).toBe(0);
  });
});

describe('Secrets Manager endpoint wire format', () => {
  it('answers in awsJson1_1 with epoch-seconds CreatedDate', async () => {
    const response = await rawCall('{"SecretId":"helpcrunch/api-key"}');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual([
      'ARN',
      'CreatedDate',
      'Name',
      'SecretString',
      'VersionId',
      'VersionStages',
    ]);
    expect(typeof body.CreatedDate).toBe('number');
  });

  it('sends ResourceNotFoundException as 400 with x-amzn-errortype and the exact body', async () => {
    const response = await rawCall('{"SecretId":"nope"}');
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect(await response.json()).toEqual({
      __type: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
    });
  });

  it('sends ThrottlingException as 400 with x-amzn-errortype', async () => {
    endpoint.script('*', { error: 'ThrottlingException' });
    const response = await rawCall('{"SecretId":"helpcrunch/api-key"}');
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('ThrottlingException');
    expect(await response.json()).toEqual({ __type: 'ThrottlingException', message: 'Rate exceeded' });
  });

  it.each([
    [
      'other operations',
      '{"SecretId":"helpcrunch/api-key"}',
      'secretsmanager.ListSecrets',
      SECRETS_MANAGER_ERRORS.unknownOperation,
    ],
    ['invalid JSON', '{"SecretId":', 'secretsmanager.GetSecretValue', SECRETS_MANAGER_ERRORS.serialization],
    ['a missing SecretId', '{}', 'secretsmanager.GetSecretValue', SECRETS_MANAGER_ERRORS.missingSecretId],
  ])('rejects %s without counting a call', async (_case, body, target, error) => {
    const response = await rawCall(body, target);
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe(error.type);
    expect(await response.json()).toEqual({ __type: error.type, message: error.message });
    expect(endpoint.calls().total).toBe(0);
  });

  it('close() frees the port', async () => {
    const { port } = endpoint;
    await endpoint.close();
    await expect(fetch(`${endpoint.url}/`, { method: 'POST' })).rejects.toThrow();
    const probe = createServer();
    await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    endpoint = await startSecretsManagerEndpoint(); // afterEach closes this one
  });
});
