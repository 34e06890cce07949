/**
 * Secrets Manager reads with a per-container TTL cache. Concurrent callers of one secret share a
 * single GetSecretValue, so a cold start under a burst of webhooks costs one call, not one each.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, RetryableError } from './errors';

export interface SecretCache {
  /** `forceRefresh` skips the cache, e.g. after HelpCrunch rejected the cached key. */
  get(secretId: string, options?: { forceRefresh?: boolean }): Promise<string>;
  clear(): void;
}

export interface SecretCacheOptions {
  /** Default: `new SecretsManagerClient({})`, created on first use, configured by the AWS env. */
  client?: SecretsManagerClient;
  ttlMs?: number;
  now?: () => number;
}

// Failures an operator has to fix; everything else (throttling, 5xx, network) may pass by itself.
const configurationFailures = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'DecryptionFailure',
  'InvalidParameterException',
  'InvalidRequestException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'CredentialsProviderError',
]);

/** Maps an SDK failure to a typed error; only the error's name is kept, never its message. */
function readFailure(secretId: string, error: unknown): Error {
  const name = error instanceof Error ? error.name : 'UnknownError';
  if (configurationFailures.has(name)) {
    return new ConfigError(`Secret '${secretId}' cannot be read (${name})`, 'secret_unreadable');
  }
  return new RetryableError(`Secrets Manager unavailable reading '${secretId}' (${name})`, undefined, 'secrets_unavailable');
}

export function createSecretCache(options: SecretCacheOptions = {}): SecretCache {
  const { ttlMs = 300_000, now = () => Date.now() } = options;
  let client = options.client;
  const cached = new Map<string, { value: string; expiresAt: number }>();
  const inFlight = new Map<string, Promise<string>>();

  async function fetchSecret(secretId: string): Promise<string> {
    client ??= new SecretsManagerClient({});
    let secretString: string | undefined;
    try {
      ({ SecretString: secretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId })));
    } catch (error) {
      throw readFailure(secretId, error);
    }
    if (secretString === undefined) {
      throw new ConfigError(`Secret '${secretId}' has no SecretString`, 'secret_unreadable');
    }
    return secretString;
  }

  return {
    get(secretId, { forceRefresh = false } = {}) {
      const hit = cached.get(secretId);
      if (!forceRefresh && hit && now() < hit.expiresAt) return Promise.resolve(hit.value);
      // Any fetch already under way started after the cached value went stale, so forced refreshes share it too.
      const pending = inFlight.get(secretId);
      if (pending) return pending;
      const fetched = fetchSecret(secretId)
        .then((value) => {
          // clear() during the fetch disowned it; a stale result must not come back into the cache.
          if (inFlight.get(secretId) === fetched) cached.set(secretId, { value, expiresAt: now() + ttlMs });
          return value;
        })
        .finally(() => {
          if (inFlight.get(secretId) === fetched) inFlight.delete(secretId);
        });
      inFlight.set(secretId, fetched);
      return fetched;
    },
    clear() {
      cached.clear();
      inFlight.clear();
    },
  };
}

/** The HelpCrunch API key from its secret: the plain key, or JSON `{"apiKey": "…"}`. */
export function parseApiKeySecret(raw: string): string {
  const text = raw.trim();
  let key: unknown = text;
  if (text.startsWith('{')) {
    try {
      key = (JSON.parse(text) as { apiKey?: unknown }).apiKey;
    } catch {
      throw new ConfigError('API key secret looks like JSON but does not parse', 'api_key_missing');
    }
  }
  if (typeof key !== 'string' || key.trim() === '') {
    throw new ConfigError('API key secret holds no key (expected the key or {"apiKey": "…"})', 'api_key_missing');
  }
  return key.trim();
}
