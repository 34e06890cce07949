/**
 * Secrets Manager reads with a per-container TTL cache. Concurrent callers of one secret share a
 * single GetSecretValue, so a cold start under a burst of webhooks costs one call, not one each.
 * Every read is bounded by a timeout inside the caller's time budget, a stalled or failed read is
 * dropped (the next one starts afresh), and neither a flood of requests nor of forged signatures
 * multiplies calls: a failure is remembered for a few seconds, and a forced re-read happens at
 * most once per secret per `refreshIntervalMs`.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, RetryableError, UntagError } from './errors';
import { WarmAgent } from './http/warm-connection';

export interface SecretReadOptions {
  /**
   * Skips the cache, e.g. after HelpCrunch rejected the cached key or a signature did not match:
   * the secret may have been rotated. Honoured at most once per secret per refresh interval.
   */
  forceRefresh?: boolean;
  /** The caller's time budget: the read gives up (secrets_unavailable) before it runs out. */
  budget?: { remainingMs(): number };
  /** What the secret is for, as replies may name it ("Signing secret for source 'crm'"); never its id. */
  label?: string;
}

export interface SecretCache {
  get(secretId: string, options?: SecretReadOptions): Promise<string>;
  /** Starts reading a secret without waiting for it (at init); a failure is left for get() to retry. */
  prefetch(secretId: string): void;
  clear(): void;
}

export interface SecretCacheOptions {
  /** Default: a SecretsManagerClient with connection and request timeouts, configured by the AWS env. */
  client?: SecretsManagerClient;
  ttlMs?: number;
  /** How long a failed read is answered from memory; default 5 s. */
  failureTtlMs?: number;
  /** Least time between two forced re-reads of one secret; default 30 s. */
  refreshIntervalMs?: number;
  /** Longest one read may take (less when the caller's budget has less left); default 3 s. */
  readTimeoutMs?: number;
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

/** A read under way; a warm-up read's failure is not remembered, the next get() simply tries again. */
interface Read {
  value: Promise<string>;
  warmUp: boolean;
}

const unreadable = (detail: string) => new ConfigError('A secret cannot be read', 'secret_unreadable', detail);

/** The same failure, its public message saying what the secret is for; the secret id stays in `detail`. */
function labelled(error: unknown, label: string | undefined): unknown {
  if (!label || !(error instanceof UntagError)) return error;
  if (error instanceof ConfigError && error.code === 'secret_unreadable') {
    return new ConfigError(`${label} cannot be read`, error.code, error.detail);
  }
  if (error instanceof RetryableError && error.code === 'secrets_unavailable') {
    return new RetryableError(
      `${label} cannot be read now: Secrets Manager did not answer`,
      error.retryAfterMs,
      error.code,
      error.detail,
    );
  }
  return error;
}

/** Rejects with `timeout()` unless `promise` settles within `ms`. */
function within<T>(promise: Promise<T>, ms: number, timeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeout()), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

export function createSecretCache(options: SecretCacheOptions = {}): SecretCache {
  const {
    ttlMs = 300_000,
    failureTtlMs = 5_000,
    refreshIntervalMs = 30_000,
    readTimeoutMs = 3_000,
    now = () => Date.now(),
  } = options;
  let client = options.client;
  const cached = new Map<string, { value: string; expiresAt: number }>();
  const failed = new Map<string, { error: unknown; until: number }>();
  const forcedAt = new Map<string, number>();
  const reads = new Map<string, Read>();

  const unavailable = (detail: string) =>
    new RetryableError('Secrets Manager is unavailable', failureTtlMs, 'secrets_unavailable', detail);

  /** Maps an SDK failure to a typed error; only the error's name is kept, never its message. */
  function readFailure(secretId: string, error: unknown, timedOut: boolean): UntagError {
    const name = error instanceof Error ? error.name : 'UnknownError';
    if (timedOut) return unavailable(`GetSecretValue '${secretId}' did not answer in time`);
    if (configurationFailures.has(name)) return unreadable(`Secret '${secretId}' cannot be read (${name})`);
    return unavailable(`GetSecretValue '${secretId}' failed (${name})`);
  }

  async function fetchSecret(secretId: string, timeoutMs: number): Promise<string> {
    client ??= new SecretsManagerClient({
      // Each HTTP attempt bounded too, so the SDK's own retries cannot outlast the abort below.
      requestHandler: {
        // On an agent that takes the connections opened at init (lib/http/warm-connection.ts).
        httpsAgent: new WarmAgent({ keepAlive: true, maxSockets: 50 }),
        connectionTimeout: Math.min(1_000, readTimeoutMs),
        requestTimeout: readTimeoutMs,
        throwOnRequestTimeout: true,
      },
    });
    const abortSignal = AbortSignal.timeout(timeoutMs);
    let secretString: string | undefined;
    try {
      ({ SecretString: secretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }), {
        abortSignal,
      }));
    } catch (error) {
      throw readFailure(secretId, error, abortSignal.aborted);
    }
    if (secretString === undefined)
      throw unreadable(`Secret '${secretId}' has no SecretString (binary secrets are not supported)`);
    return secretString;
  }

  function startRead(secretId: string, timeoutMs: number, warmUp: boolean): Read {
    const read: Read = {
      warmUp,
      value: fetchSecret(secretId, timeoutMs)
        .then(
          (value) => {
            // clear() during the fetch disowned it; a stale result must not come back into the cache.
            if (reads.get(secretId) === read) {
              cached.set(secretId, { value, expiresAt: now() + ttlMs });
              failed.delete(secretId);
            }
            return value;
          },
          (error: unknown) => {
            if (reads.get(secretId) === read && !warmUp) failed.set(secretId, { error, until: now() + failureTtlMs });
            throw error;
          },
        )
        .finally(() => {
          if (reads.get(secretId) === read) reads.delete(secretId);
        }),
    };
    reads.set(secretId, read);
    return read;
  }

  async function read(secretId: string, { forceRefresh = false, budget }: SecretReadOptions): Promise<string> {
    const at = now();
    // A forced read joins one under way; a new one is started at most once per refresh interval.
    const refresh =
      forceRefresh && (reads.has(secretId) || at - (forcedAt.get(secretId) ?? -Infinity) >= refreshIntervalMs);
    const hit = cached.get(secretId);
    if (hit && !refresh && at < hit.expiresAt) return hit.value;
    const failure = failed.get(secretId);
    if (failure && at < failure.until) throw failure.error;
    if (refresh && !reads.has(secretId)) forcedAt.set(secretId, at);

    const timeoutMs = () => Math.min(readTimeoutMs, budget?.remainingMs() ?? readTimeoutMs);
    const timedOut = () => unavailable(`Reading '${secretId}' did not fit in the time budget`);
    // Any read already under way started after the cached value went stale, so forced refreshes share it too.
    const shared = reads.get(secretId);
    if (shared) {
      const settled = await within(
        shared.value.then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        ),
        timeoutMs(),
        timedOut,
      );
      if ('value' in settled) return settled.value;
      // A read started at init failed: not this caller's failure, so it tries once more inside its own budget.
      if (!shared.warmUp) throw settled.error;
    }
    if (timeoutMs() <= 0) throw timedOut();
    const own = reads.get(secretId) ?? startRead(secretId, timeoutMs(), false);
    return within(own.value, timeoutMs(), timedOut);
  }

  return {
    async get(secretId, options = {}) {
      try {
        return await read(secretId, options);
      } catch (error) {
        throw labelled(error, options.label);
      }
    },
    prefetch(secretId) {
      if (cached.has(secretId) || reads.has(secretId)) return;
      // Nobody awaits a warm-up read; its failure is handled here and retried on use.
      startRead(secretId, readTimeoutMs, true).value.catch(() => undefined);
    },
    clear() {
      cached.clear();
      failed.clear();
      forcedAt.clear();
      reads.clear();
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
