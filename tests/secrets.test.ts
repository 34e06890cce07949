import {
  DecryptionFailure,
  GetSecretValueCommand,
  InternalServiceError,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, RetryableError } from '../lib/errors';
import { createSecretCache, parseApiKeySecret } from '../lib/secrets';
import { startSecretsManagerStub, type SecretsManagerStub } from './support/secrets-manager-stub';

const secretId = 'helpcrunch/api-key';

function mockedSecretsManager() {
  const client = new SecretsManagerClient({ region: 'us-east-1' });
  return { client, sdk: mockClient(client) };
}

const awsError = (name: string, message = `${name} happened`) => Object.assign(new Error(message), { name });

describe('createSecretCache', () => {
  let client: SecretsManagerClient;
  let sdk: ReturnType<typeof mockedSecretsManager>['sdk'];

  beforeEach(() => {
    ({ client, sdk } = mockedSecretsManager());
  });

  it('reads the secret once and serves it from cache until the TTL passes', async () => {
    let clock = 0;
    sdk.on(GetSecretValueCommand, { SecretId: secretId }).resolvesOnce({ SecretString: 'v1' }).resolves({ SecretString: 'v2' });
    const secrets = createSecretCache({ client, ttlMs: 1_000, now: () => clock });

    expect(await secrets.get(secretId)).toBe('v1');
    clock = 999;
    expect(await secrets.get(secretId)).toBe('v1');
    expect(sdk.commandCalls(GetSecretValueCommand)).toHaveLength(1);

    clock = 1_000;
    expect(await secrets.get(secretId)).toBe('v2');
    expect(sdk.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('caches each secret id separately', async () => {
    sdk.on(GetSecretValueCommand, { SecretId: 'a' }).resolves({ SecretString: 'A' });
    sdk.on(GetSecretValueCommand, { SecretId: 'b' }).resolves({ SecretString: 'B' });
    const secrets = createSecretCache({ client });
    expect([await secrets.get('a'), await secrets.get('b'), await secrets.get('a')]).toEqual(['A', 'B', 'A']);
    expect(sdk.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('shares one in-flight GetSecretValue among concurrent callers', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    sdk.on(GetSecretValueCommand).callsFake(async () => {
      await gate;
      return { SecretString: 'shared' };
    });
    const secrets = createSecretCache({ client });

    const reads = Array.from({ length: 10 }, () => secrets.get(secretId));
    release();
    expect(await Promise.all(reads)).toEqual(Array(10).fill('shared'));
    expect(sdk.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('forceRefresh bypasses the cache, and concurrent forced refreshes share one call', async () => {
    sdk.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'old' }).resolves({ SecretString: 'rotated' });
    const secrets = createSecretCache({ client });
    expect(await secrets.get(secretId)).toBe('old');

    const refreshed = await Promise.all([
      secrets.get(secretId, { forceRefresh: true }),
      secrets.get(secretId, { forceRefresh: true }),
    ]);
    expect(refreshed).toEqual(['rotated', 'rotated']);
    expect(sdk.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    expect(await secrets.get(secretId)).toBe('rotated');
    expect(sdk.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('does not cache a failed read', async () => {
    sdk.on(GetSecretValueCommand).rejectsOnce(awsError('ThrottlingException')).resolves({ SecretString: 'later' });
    const secrets = createSecretCache({ client });
    await expect(secrets.get(secretId)).rejects.toBeInstanceOf(RetryableError);
    expect(await secrets.get(secretId)).toBe('later');
  });

  it('clear() forgets cached values', async () => {
    sdk.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'first' }).resolves({ SecretString: 'second' });
    const secrets = createSecretCache({ client });
    await secrets.get(secretId);
    secrets.clear();
    expect(await secrets.get(secretId)).toBe('second');
  });

  it.each([
    ['throttling', awsError('ThrottlingException')],
    ['a server fault', new InternalServiceError({ message: 'boom', $metadata: {} })],
    ['a network failure', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
  ])('turns %s into RetryableError secrets_unavailable', async (_, failure) => {
    sdk.on(GetSecretValueCommand).rejects(failure);
    const error = await createSecretCache({ client }).get(secretId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'secrets_unavailable' });
    expect((error as Error).message).toContain(secretId);
  });

  it.each([
    ['not found', new ResourceNotFoundException({ message: "can't find the specified secret", $metadata: {} })],
    ['access denied', awsError('AccessDeniedException')],
    ['KMS decryption failure', new DecryptionFailure({ message: 'kms says no', $metadata: {} })],
  ])('turns %s into ConfigError naming the secret id only', async (_, failure) => {
    sdk.on(GetSecretValueCommand).rejects(failure);
    const error = await createSecretCache({ client }).get(secretId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(`Secret '${secretId}' cannot be read (${failure.name})`);
  });

  it('treats a secret without SecretString (binary) as a ConfigError', async () => {
    sdk.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });
    const error = await createSecretCache({ client }).get(secretId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ message: `Secret '${secretId}' has no SecretString`, code: 'secret_unreadable' });
  });
});

describe('parseApiKeySecret', () => {
  it('accepts a plain key and trims it', () => {
    expect(parseApiKeySecret('  hc_key_123\n')).toBe('hc_key_123');
  });

  it('accepts JSON {"apiKey": …}', () => {
    expect(parseApiKeySecret('{"apiKey": " hc_key_456 "}\n')).toBe('hc_key_456');
  });

  it.each(['', '   \n', '{"apiKey": ""}', '{"token": "x"}', '{"apiKey": 42}'])(
    'rejects %j as ConfigError',
    (raw) => {
      expect(() => parseApiKeySecret(raw)).toThrow(ConfigError);
    },
  );

  it('does not echo a malformed JSON secret', () => {
    const raw = '{"apiKey": "hc_secret_value"';
    const error = (() => {
      try {
        parseApiKeySecret(raw);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).not.toContain('hc_secret_value');
  });
});

describe('createSecretCache over HTTP with the real SDK', () => {
  const envKeys = [
    'AWS_ENDPOINT_URL_SECRETS_MANAGER',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_REGION',
    'AWS_PROFILE',
  ] as const;
  const savedEnv = Object.fromEntries(envKeys.map((key) => [key, process.env[key]]));
  let stub: SecretsManagerStub;

  beforeAll(async () => {
    stub = await startSecretsManagerStub({ [secretId]: '{"apiKey":"hc_from_stub"}' });
    for (const key of envKeys) delete process.env[key];
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: stub.url,
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'dummy-secret',
      AWS_REGION: 'us-east-1',
    });
  });

  afterAll(async () => {
    for (const key of envKeys) {
      if (savedEnv[key] === undefined) delete process.env[key];
      else process.env[key] = savedEnv[key];
    }
    await stub.close();
  });

  it('builds its own client from the environment and reads the secret', async () => {
    const secrets = createSecretCache();
    expect(parseApiKeySecret(await secrets.get(secretId))).toBe('hc_from_stub');
    await secrets.get(secretId);
    expect(stub.requests).toEqual([secretId]);
  });

  it('maps a ResourceNotFoundException reply to ConfigError', async () => {
    const error = await createSecretCache().get('missing/secret').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe("Secret 'missing/secret' cannot be read (ResourceNotFoundException)");
  });
});
