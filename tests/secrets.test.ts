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
import { startStallingProxy } from './support/stalling-proxy';

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
    sdk
      .on(GetSecretValueCommand, { SecretId: secretId })
      .resolvesOnce({ SecretString: 'v1' })
      .resolves({ SecretString: 'v2' });
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

  it('forces a re-read at most once per secret per 30 s, however often it is asked', async () => {
    let clock = 0;
    sdk.on(GetSecretValueCommand).resolves({ SecretString: 'v' });
    const secrets = createSecretCache({ client, now: () => clock });
    await secrets.get(secretId);
    await secrets.get('other/secret');

    for (let i = 0; i < 100; i++) await secrets.get(secretId, { forceRefresh: true });
    expect(sdk.commandCalls(GetSecretValueCommand)).toHaveLength(3);

    clock = 29_999;
    await secrets.get(secretId, { forceRefresh: true });
    expect(sdk.commandCalls(GetSecretValueCommand)).toHaveLength(3);
    // The limit is per secret.
    await secrets.get('other/secret', { forceRefresh: true });
    expect(sdk.commandCalls(GetSecretValueCommand)).toHaveLength(4);

    clock = 30_000;
    await secrets.get(secretId, { forceRefresh: true });
    expect(sdk.commandCalls(GetSecretValueCommand)).toHaveLength(5);
  });

  it('answers a failed read from memory for 5 s, then reads again', async () => {
    let clock = 0;
    sdk.on(GetSecretValueCommand).rejectsOnce(awsError('AccessDeniedException')).resolves({ SecretString: 'later' });
    const secrets = createSecretCache({ client, now: () => clock });

    for (let i = 0; i < 50; i++)
      await expect(secrets.get(secretId)).rejects.toMatchObject({ code: 'secret_unreadable' });
    await expect(secrets.get(secretId, { forceRefresh: true })).rejects.toBeInstanceOf(ConfigError);
    expect(sdk.commandCalls(GetSecretValueCommand)).toHaveLength(1);

    clock = 5_000;
    expect(await secrets.get(secretId)).toBe('later');
    expect(sdk.commandCalls(GetSecretValueCommand)).toHaveLength(2);
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
  ])(
    'turns %s into RetryableError secrets_unavailable, with a Retry-After and the secret id in the detail only',
    async (_, failure) => {
      sdk.on(GetSecretValueCommand).rejects(failure);
      const error = await createSecretCache({ client })
        .get(secretId)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RetryableError);
      expect(error).toMatchObject({
        code: 'secrets_unavailable',
        retryAfterMs: 5_000,
        detail: `GetSecretValue '${secretId}' failed (${failure.name})`,
      });
      expect((error as Error).message).not.toContain(secretId);
    },
  );

  it.each([
    ['not found', new ResourceNotFoundException({ message: "can't find the specified secret", $metadata: {} })],
    ['access denied', awsError('AccessDeniedException')],
    ['KMS decryption failure', new DecryptionFailure({ message: 'kms says no', $metadata: {} })],
  ])(
    'turns %s into ConfigError secret_unreadable, the secret id and SDK error name in the detail only',
    async (_, failure) => {
      sdk.on(GetSecretValueCommand).rejects(failure);
      const error = await createSecretCache({ client })
        .get(secretId)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({
        code: 'secret_unreadable',
        message: 'A secret cannot be read',
        detail: `Secret '${secretId}' cannot be read (${failure.name})`,
      });
    },
  );

  it('names what the secret is for when the caller says, never the secret id or ARN', async () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:crm-webhook-AbCdEf';
    sdk
      .on(GetSecretValueCommand)
      .rejectsOnce(awsError('AccessDeniedException'))
      .rejects(awsError('ThrottlingException'));
    const secrets = createSecretCache({ client, failureTtlMs: 0 });

    const unreadable = await secrets.get(arn, { label: "Signing secret for source 'crm'" }).catch((e: unknown) => e);
    const unavailable = await secrets.get(arn, { label: "Signing secret for source 'crm'" }).catch((e: unknown) => e);

    expect(unreadable).toMatchObject({
      code: 'secret_unreadable',
      message: "Signing secret for source 'crm' cannot be read",
    });
    expect(unavailable).toMatchObject({
      code: 'secrets_unavailable',
      message: "Signing secret for source 'crm' cannot be read now: Secrets Manager did not answer",
    });
    for (const error of [unreadable, unavailable] as Error[]) {
      expect(error.message).not.toContain('123456789012');
      expect((error as ConfigError).detail).toContain(arn);
    }
  });

  it('treats a secret without SecretString (binary) as a ConfigError', async () => {
    sdk.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });
    const error = await createSecretCache({ client })
      .get(secretId)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({
      code: 'secret_unreadable',
      detail: expect.stringContaining(`Secret '${secretId}' has no SecretString`),
    });
  });

  it('gives up when the time budget has nothing left, without calling Secrets Manager', async () => {
    sdk.on(GetSecretValueCommand).resolves({ SecretString: 'v' });
    const error = await createSecretCache({ client })
      .get(secretId, { budget: { remainingMs: () => 0 } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'secrets_unavailable' });
    expect(sdk.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  describe('prefetch (at init)', () => {
    it('starts a read that the first get() shares, and never rejects itself', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      sdk.on(GetSecretValueCommand).callsFake(async () => {
        await gate;
        return { SecretString: 'early' };
      });
      const secrets = createSecretCache({ client });

      secrets.prefetch(secretId);
      secrets.prefetch(secretId);
      expect(sdk.commandCalls(GetSecretValueCommand)).toHaveLength(1);
      const read = secrets.get(secretId);
      release();
      expect(await read).toBe('early');
      expect(sdk.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    });

    it('leaves a failed early read to be retried on use: not remembered, no unhandled rejection', async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        sdk.on(GetSecretValueCommand).rejectsOnce(awsError('ThrottlingException')).resolves({ SecretString: 'on use' });
        const secrets = createSecretCache({ client });

        secrets.prefetch(secretId);
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(await secrets.get(secretId)).toBe('on use');
        expect(sdk.commandCalls(GetSecretValueCommand)).toHaveLength(2);
        expect(unhandled).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    });

    it('a get() that joined a failing early read reads again inside its own budget', async () => {
      let fail!: () => void;
      const gate = new Promise<void>((resolve) => (fail = resolve));
      sdk
        .on(GetSecretValueCommand)
        .callsFakeOnce(async () => {
          await gate;
          throw awsError('ThrottlingException');
        })
        .resolves({ SecretString: 'second read' });
      const secrets = createSecretCache({ client });

      secrets.prefetch(secretId);
      const read = secrets.get(secretId);
      fail();
      expect(await read).toBe('second read');
      expect(sdk.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    });
  });
});

describe('parseApiKeySecret', () => {
  it('accepts a plain key and trims it', () => {
    expect(parseApiKeySecret('  hc_key_123\n')).toBe('hc_key_123');
  });

  it('accepts JSON {"apiKey": …}', () => {
    expect(parseApiKeySecret('{"apiKey": " hc_key_456 "}\n')).toBe('hc_key_456');
  });

  it.each(['', '   \n', '{"apiKey": ""}', '{"token": "x"}', '{"apiKey": 42}'])('rejects %j as ConfigError', (raw) => {
    expect(() => parseApiKeySecret(raw)).toThrow(ConfigError);
  });

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
    const error = await createSecretCache()
      .get('missing/secret')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).detail).toBe("Secret 'missing/secret' cannot be read (ResourceNotFoundException)");
  });

  it('bounds a read when Secrets Manager accepts the connection and never answers, drops it, and recovers', async () => {
    let clock = 0;
    const proxy = await startStallingProxy(stub.url);
    try {
      const client = new SecretsManagerClient({ endpoint: proxy.url });
      const secrets = createSecretCache({ client, readTimeoutMs: 2_000, now: () => clock });
      proxy.stall(true);

      // A 300 ms budget bounds the read, not the 2 s read timeout.
      const error = await secrets.get(secretId, { budget: { remainingMs: () => 300 } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RetryableError);
      expect(error).toMatchObject({ code: 'secrets_unavailable', retryAfterMs: 5_000 });
      expect(proxy.stalledConnections()).toBeGreaterThanOrEqual(1);

      // Remembered for a few seconds: a flood meanwhile makes no further calls.
      proxy.stall(false);
      await expect(secrets.get(secretId)).rejects.toMatchObject({ code: 'secrets_unavailable' });
      const calls = stub.requests.length;

      clock = 5_000;
      expect(parseApiKeySecret(await secrets.get(secretId))).toBe('hc_from_stub');
      expect(stub.requests.length).toBe(calls + 1);
    } finally {
      await proxy.close();
    }
  });
});
