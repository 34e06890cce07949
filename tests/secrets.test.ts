import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, RetryableError } from '../lib/errors';
import { createSecretCache, parseApiKeySecret } from '../lib/secrets';
import {
  startSecretsManagerEndpoint,
  type SecretsManagerEndpoint,
  type SecretsManagerErrorName,
} from '../local/sandbox/secrets-manager-endpoint';
import { closedPortUrl } from './support/closed-port';

const secretId = 'helpcrunch/api-key';

/** The real SDK pointed at `endpoint`, one attempt per read so every read is one call. */
const sdkClient = (endpoint: string) =>
  new SecretsManagerClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'dummy-secret' },
    maxAttempts: 1,
  });

describe('createSecretCache', () => {
  let endpoint: SecretsManagerEndpoint;
  let client: SecretsManagerClient;
  /** GetSecretValue calls that reached Secrets Manager. */
  const calls = () => endpoint.calls().total;

  beforeEach(async () => {
    endpoint = await startSecretsManagerEndpoint();
    client = sdkClient(endpoint.url);
  });
  afterEach(async () => {
    client.destroy();
    await endpoint.close();
  });

  it('reads the secret once and serves it from cache until the TTL passes', async () => {
    let clock = 0;
    endpoint.setSecret(secretId, 'v1');
    const secrets = createSecretCache({ client, ttlMs: 1_000, now: () => clock });

    expect(await secrets.get(secretId)).toBe('v1');
    endpoint.setSecret(secretId, 'v2');
    clock = 999;
    expect(await secrets.get(secretId)).toBe('v1');
    expect(calls()).toBe(1);

    clock = 1_000;
    expect(await secrets.get(secretId)).toBe('v2');
    expect(calls()).toBe(2);
  });

  it('caches each secret id separately', async () => {
    endpoint.setSecret('a', 'A');
    endpoint.setSecret('b', 'B');
    const secrets = createSecretCache({ client });
    expect([await secrets.get('a'), await secrets.get('b'), await secrets.get('a')]).toEqual(['A', 'B', 'A']);
    expect(calls()).toBe(2);
  });

  it('shares one in-flight GetSecretValue among concurrent callers', async () => {
    endpoint.setSecret(secretId, 'shared');
    endpoint.script('*', { stall: true });
    const secrets = createSecretCache({ client });

    const reads = Array.from({ length: 10 }, () => secrets.get(secretId));
    await expect.poll(() => endpoint.stalled()).toBe(1);
    endpoint.release();
    expect(await Promise.all(reads)).toEqual(Array(10).fill('shared'));
    expect(calls()).toBe(1);
  });

  it('forceRefresh bypasses the cache, and concurrent forced refreshes share one call', async () => {
    endpoint.setSecret(secretId, 'old');
    const secrets = createSecretCache({ client });
    expect(await secrets.get(secretId)).toBe('old');
    endpoint.setSecret(secretId, 'rotated');

    const refreshed = await Promise.all([
      secrets.get(secretId, { forceRefresh: true }),
      secrets.get(secretId, { forceRefresh: true }),
    ]);
    expect(refreshed).toEqual(['rotated', 'rotated']);
    expect(calls()).toBe(2);
    expect(await secrets.get(secretId)).toBe('rotated');
    expect(calls()).toBe(2);
  });

  it('forces a re-read at most once per secret per 30 s, however often it is asked', async () => {
    let clock = 0;
    endpoint.setSecret(secretId, 'v');
    endpoint.setSecret('other/secret', 'v');
    const secrets = createSecretCache({ client, now: () => clock });
    await secrets.get(secretId);
    await secrets.get('other/secret');

    for (let i = 0; i < 100; i++) await secrets.get(secretId, { forceRefresh: true });
    expect(calls()).toBe(3);

    clock = 29_999;
    await secrets.get(secretId, { forceRefresh: true });
    expect(calls()).toBe(3);
    // The limit is per secret.
    await secrets.get('other/secret', { forceRefresh: true });
    expect(calls()).toBe(4);

    clock = 30_000;
    await secrets.get(secretId, { forceRefresh: true });
    expect(calls()).toBe(5);
  });

  it('answers a failed read from memory for 5 s, then reads again', async () => {
    let clock = 0;
    endpoint.setSecret(secretId, 'later');
    endpoint.script('*', { error: 'AccessDeniedException' });
    const secrets = createSecretCache({ client, now: () => clock });

    for (let i = 0; i < 50; i++)
      await expect(secrets.get(secretId)).rejects.toMatchObject({ code: 'secret_unreadable' });
    await expect(secrets.get(secretId, { forceRefresh: true })).rejects.toBeInstanceOf(ConfigError);
    expect(calls()).toBe(1);

    clock = 5_000;
    expect(await secrets.get(secretId)).toBe('later');
    expect(calls()).toBe(2);
  });

  it('clear() forgets cached values', async () => {
    endpoint.setSecret(secretId, 'first');
    const secrets = createSecretCache({ client });
    await secrets.get(secretId);
    endpoint.setSecret(secretId, 'second');
    secrets.clear();
    expect(await secrets.get(secretId)).toBe('second');
  });

  it.each([
    ['throttling', 'ThrottlingException'],
    ['a server fault', 'InternalServiceError'],
    // The SDK's own error for a refused connection is a plain Error with code ECONNREFUSED.
    ['a network failure', 'Error'],
  ] as const)(
    'turns %s into RetryableError secrets_unavailable, with a Retry-After and the secret id in the detail only',
    async (_, failure) => {
      endpoint.setSecret(secretId, 'v');
      if (failure === 'Error') client = sdkClient(await closedPortUrl());
      else endpoint.script('*', { error: failure });
      const error = await createSecretCache({ client })
        .get(secretId)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RetryableError);
      expect(error).toMatchObject({
        code: 'secrets_unavailable',
        retryAfterMs: 5_000,
        detail: `GetSecretValue '${secretId}' failed (${failure})`,
      });
      expect((error as Error).message).not.toContain(secretId);
    },
  );

  it.each([
    ['not found', 'ResourceNotFoundException'],
    ['access denied', 'AccessDeniedException'],
    ['KMS decryption failure', 'DecryptionFailure'],
  ] satisfies [string, SecretsManagerErrorName][])(
    'turns %s into ConfigError secret_unreadable, the secret id and SDK error name in the detail only',
    async (_, failure) => {
      // Not found for real: the endpoint holds no such secret; the others as the service would answer.
      if (failure !== 'ResourceNotFoundException') {
        endpoint.setSecret(secretId, 'v');
        endpoint.script('*', { error: failure });
      }
      const error = await createSecretCache({ client })
        .get(secretId)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({
        code: 'secret_unreadable',
        message: 'A secret cannot be read',
        detail: `Secret '${secretId}' cannot be read (${failure})`,
      });
    },
  );

  it('names what the secret is for when the caller says, never the secret id or ARN', async () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:crm-webhook-AbCdEf';
    endpoint.script('*', { error: 'AccessDeniedException' }, { error: 'ThrottlingException', times: 'always' });
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
    endpoint.setSecret(secretId, new Uint8Array([1, 2, 3]));
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
    endpoint.setSecret(secretId, 'v');
    const error = await createSecretCache({ client })
      .get(secretId, { budget: { remainingMs: () => 0 } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'secrets_unavailable' });
    expect(calls()).toBe(0);
  });

  describe('prefetch (at init)', () => {
    it('starts a read that the first get() shares, and never rejects itself', async () => {
      endpoint.setSecret(secretId, 'early');
      endpoint.script('*', { stall: true });
      const secrets = createSecretCache({ client });

      secrets.prefetch(secretId);
      secrets.prefetch(secretId);
      await expect.poll(() => endpoint.stalled()).toBe(1);
      expect(calls()).toBe(1);
      const read = secrets.get(secretId);
      endpoint.release();
      expect(await read).toBe('early');
      expect(calls()).toBe(1);
    });

    it('leaves a failed early read to be retried on use: not remembered, no unhandled rejection', async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        endpoint.setSecret(secretId, 'on use');
        endpoint.script('*', { error: 'ThrottlingException' });
        const secrets = createSecretCache({ client });

        secrets.prefetch(secretId);
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(await secrets.get(secretId)).toBe('on use');
        expect(calls()).toBe(2);
        expect(unhandled).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    });

    it('a get() that joined a failing early read reads again inside its own budget', async () => {
      endpoint.setSecret(secretId, 'second read');
      endpoint.script('*', { error: 'ThrottlingException' });
      const secrets = createSecretCache({ client });

      // The early read is on the wire when get() joins it: no answer comes back within one tick.
      secrets.prefetch(secretId);
      const read = secrets.get(secretId);
      expect(await read).toBe('second read');
      expect(calls()).toBe(2);
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
  let secretsManager: SecretsManagerEndpoint;

  beforeAll(async () => {
    secretsManager = await startSecretsManagerEndpoint({
      secrets: { [secretId]: '{"apiKey":"hc_from_secrets_manager"}' },
    });
    for (const key of envKeys) delete process.env[key];
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.url,
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
    await secretsManager.close();
  });

  it('builds its own client from the environment and reads the secret', async () => {
    const secrets = createSecretCache();
    expect(parseApiKeySecret(await secrets.get(secretId))).toBe('hc_from_secrets_manager');
    await secrets.get(secretId);
    expect(secretsManager.calls()).toEqual({ total: 1, bySecret: { [secretId]: 1 } });
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
    const client = new SecretsManagerClient({ endpoint: secretsManager.url });
    const secrets = createSecretCache({ client, readTimeoutMs: 2_000, now: () => clock });
    secretsManager.script('*', { stall: true, times: 'always' });
    const stalledFrom = secretsManager.calls().total;

    // A 300 ms budget bounds the read, not the 2 s read timeout.
    const error = await secrets.get(secretId, { budget: { remainingMs: () => 300 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'secrets_unavailable', retryAfterMs: 5_000 });
    // The read reached Secrets Manager, which held it unanswered.
    expect(secretsManager.calls().total).toBeGreaterThan(stalledFrom);

    // Remembered for a few seconds: a flood meanwhile makes no further calls.
    secretsManager.clearScript();
    await expect(secrets.get(secretId)).rejects.toMatchObject({ code: 'secrets_unavailable' });
    const calls = secretsManager.calls().total;

    clock = 5_000;
    expect(parseApiKeySecret(await secrets.get(secretId))).toBe('hc_from_secrets_manager');
    expect(secretsManager.calls().total).toBe(calls + 1);
  });
});
