/** Environment settings, read once per container. Defaults match serverless.yml and the README. */
import { ConfigError } from './errors';
import { DEFAULT_MAX_BODY_BYTES } from './triggers/http-event';
import { parseLookupOrigins } from './lookups/origins';

/** inline: call HelpCrunch from the trigger; queue: enqueue jobs for the paced worker (functions/worker.ts). */
export type DispatchMode = 'inline' | 'queue';

/** Which queue a worker drains: the live jobs queue, or a backfill's (at the share of the rate its messages say). */
export type WorkerQueue = 'jobs' | 'backfill';

export interface RuntimeConfig {
  /** Secrets Manager id of the HelpCrunch API key (plain, or JSON {"apiKey": "…"}). */
  apiKeySecretId: string | undefined;
  /** Raw HELPCRUNCH_API_URL; validated by parseApiUrl where the client is built. */
  apiUrl: string | undefined;
  secretTtlMs: number;
  requestTimeoutMs: number;
  maxBodyBytes: number;
  /** Most jobs one webhook request or EventBridge event may produce (413 too_many_jobs above). */
  maxJobsPerRequest: number;
  /** Most distinct customers one request (inline) or queued unit may change once lookups resolve (413 too_many_customers above). */
  maxCustomersPerRequest: number;
  /** The ledger's DynamoDB table (LEDGER_TABLE): duplicates, and which event last decided each customer's tag. */
  ledgerTable: string | undefined;
  /** How long an applied event is remembered as such (DEDUP_DAYS). */
  dedupDays: number;
  /** The DynamoDB endpoint the SDK will call (AWS_ENDPOINT_URL_DYNAMODB, else the region's), for the early connection. */
  ledgerUrl: string | undefined;
  /** The Secrets Manager endpoint the SDK will call (AWS_ENDPOINT_URL_SECRETS_MANAGER, else the region's), for the early connections. */
  secretsUrl: string | undefined;
  /** Time kept back from the invocation's remaining time so the function can still answer. */
  safetyMarginMs: number;
  dispatch: DispatchMode;
  /** The jobs queue: where triggers enqueue (dispatch=queue) and whose messages the worker re-times. */
  jobsQueueUrl: string | undefined;
  /** Where the worker sends jobs that cannot succeed, with the reason. */
  deadLetterQueueUrl: string | undefined;
  /** The worker's HelpCrunch request rate for the whole account, shared by all its instances (HelpCrunch allows 120/min). */
  ratePerMinute: number;
  /** Worker instances at most (the event source's maximum concurrency): each paces itself at its share of ratePerMinute. */
  workerConcurrency: number;
  /** Receives of one message before the worker dead-letters it; the queue's own redrive policy is a backstop far above it. */
  maxReceiveCount: number;
  /** WORKER_QUEUE: which queue this worker drains (JOBS_QUEUE_URL is that queue). */
  workerQueue: WorkerQueue;
  /** How often the live worker reads whether a backfill runs, and how long a backfill waits before it sends (lib/queue/rate-share.ts). */
  rateShareRefreshMs: number;
  /** DRY_RUN: everything runs but HelpCrunch's writes (no PUT, no DELETE); outcomes say would_untag / would_tag. */
  dryRun: boolean;
  /** LOOKUP_ORIGINS, for local runs and tests: lookup name -> the origin its requests go to instead. */
  lookupOrigins: Record<string, string>;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(`${name} must be an integer >= ${min}, got '${raw}'`);
  }
  return value;
}

/** One of `allowed` (the first when unset). */
function choice<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly [T, ...T[]]): T {
  const raw = env[name];
  const value = raw?.trim() || allowed[0];
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${name} must be ${allowed.map((option) => `'${option}'`).join(' or ')}, got '${raw}'`);
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  const value = raw?.trim() || 'false';
  if (value === 'true' || value === 'false') return value === 'true';
  throw new ConfigError(`${name} must be 'true' or 'false', got '${raw}'`);
}

/** Where the AWS SDK sends a service's requests: its AWS_ENDPOINT_URL_<SERVICE> if set, else the region's endpoint. */
function sdkEndpoint(env: NodeJS.ProcessEnv, variable: string, host: string): string | undefined {
  const configured = env[`AWS_ENDPOINT_URL_${variable}`]?.trim();
  if (configured) return configured;
  return env.AWS_REGION ? `https://${host}.${env.AWS_REGION}.amazonaws.com` : undefined;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  return {
    apiKeySecretId: env.HELPCRUNCH_API_KEY_SECRET_ID?.trim() || undefined,
    apiUrl: env.HELPCRUNCH_API_URL,
    secretTtlMs: integer(env, 'SECRET_CACHE_TTL_SECONDS', 300) * 1000,
    requestTimeoutMs: integer(env, 'HELPCRUNCH_TIMEOUT_MS', 5000),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES),
    // HubSpot's batch size: one full batch of one rule each.
    maxJobsPerRequest: integer(env, 'MAX_JOBS_PER_REQUEST', 100, 1),
    maxCustomersPerRequest: integer(env, 'MAX_CUSTOMERS_PER_REQUEST', 100, 1),
    ledgerTable: env.LEDGER_TABLE?.trim() || undefined,
    // Stripe resends for up to three days.
    dedupDays: integer(env, 'DEDUP_DAYS', 7, 1),
    ledgerUrl: sdkEndpoint(env, 'DYNAMODB', 'dynamodb'),
    secretsUrl: sdkEndpoint(env, 'SECRETS_MANAGER', 'secretsmanager'),
    safetyMarginMs: integer(env, 'TIME_BUDGET_MARGIN_MS', 1500),
    dispatch: choice<DispatchMode>(env, 'DISPATCH', ['inline', 'queue']),
    jobsQueueUrl: env.JOBS_QUEUE_URL?.trim() || undefined,
    deadLetterQueueUrl: env.DEAD_LETTER_QUEUE_URL?.trim() || undefined,
    ratePerMinute: integer(env, 'HELPCRUNCH_RATE_PER_MINUTE', 110, 1),
    workerConcurrency: integer(env, 'WORKER_CONCURRENCY', 1, 1),
    maxReceiveCount: integer(env, 'MAX_RECEIVE_COUNT', 8, 1),
    workerQueue: choice<WorkerQueue>(env, 'WORKER_QUEUE', ['jobs', 'backfill']),
    rateShareRefreshMs: integer(env, 'RATE_SHARE_REFRESH_MS', 15_000, 100),
    dryRun: flag(env, 'DRY_RUN'),
    lookupOrigins: parseLookupOrigins(env.LOOKUP_ORIGINS),
  };
}
