/** Environment settings, read once per container. Defaults match serverless.yml and the README. */
import { ConfigError } from './errors';

export interface RuntimeConfig {
  /** Secrets Manager id of the HelpCrunch API key (plain, or JSON {"apiKey": "…"}). */
  apiKeySecretId: string | undefined;
  /** Raw HELPCRUNCH_API_URL; validated by parseApiUrl where the client is built. */
  apiUrl: string | undefined;
  secretTtlMs: number;
  requestTimeoutMs: number;
  maxBodyBytes: number;
  /** Time kept back from the invocation's remaining time so the function can still answer. */
  safetyMarginMs: number;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ConfigError(`${name} must be a non-negative integer, got '${raw}'`);
  }
  return value;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  return {
    apiKeySecretId: env.HELPCRUNCH_API_KEY_SECRET_ID?.trim() || undefined,
    apiUrl: env.HELPCRUNCH_API_URL,
    secretTtlMs: positiveInt(env, 'SECRET_CACHE_TTL_SECONDS', 300) * 1000,
    requestTimeoutMs: positiveInt(env, 'HELPCRUNCH_TIMEOUT_MS', 5000),
    maxBodyBytes: positiveInt(env, 'MAX_BODY_BYTES', 256 * 1024),
    safetyMarginMs: positiveInt(env, 'TIME_BUDGET_MARGIN_MS', 1500),
  };
}
