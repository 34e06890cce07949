/**
 * Per-container wiring from the environment. Built lazily and memoised once it succeeds: a build
 * tried during init that fails is left for the first invocation, so a misconfiguration answers
 * with a clear ConfigError instead of a failed cold start.
 */
import { readConfig, type RuntimeConfig } from './config';
import { inlineDispatch } from './dispatch/inline';
import { queueDispatch } from './dispatch/queue';
import { ConfigError } from './errors';
import { parseApiUrl } from './helpcrunch/api-url';
import { createHelpCrunchClient, type ApiKeySource, type HelpCrunchClient } from './helpcrunch/client';
import type { Ledger } from './ledger';
import { type LazyLedger, lazyLedger } from './ledger/lazy';
import { withOrigins } from './lookups/origins';
import { createLookupResolver } from './lookups/resolver';
import { markDryRun } from './observability';
import type { PipelineDeps } from './pipeline';
import { createPacedHelpCrunchClient } from './queue/paced-client';
import { sqsApi, type SqsApi } from './queue/sqs-api';
import { TokenBucket } from './queue/token-bucket';
import { backfillPacer, livePacer } from './queue/rate-share';
import { createQueueWorker, type QueueWorker } from './queue/worker';
import { singleAttempt, type RetryPolicy } from './http/retry';
import { preconnectAll } from './http/warm-connection';
import type { RuleSet } from './rules/match';
import { createSecretCache, parseApiKeySecret, type SecretCache } from './secrets';
import { createUntagService, type UntagService } from './untag-service';

export interface Runtime {
  config: RuntimeConfig;
  secrets: SecretCache;
  service: UntagService;
  /** The ledger, when this function uses one (inline dispatch, not a dry run). */
  ledger?: Ledger | LazyLedger;
}

export interface WorkerRuntime {
  config: RuntimeConfig;
  secrets: SecretCache;
  worker: QueueWorker;
  ledger?: Ledger | LazyLedger;
}

/** Stand-ins for the AWS services, for the local simulation and benchmark; Lambda uses the SDK. */
export interface RuntimeDeps {
  sqs?: SqsApi;
  secrets?: SecretCache;
  ledger?: Ledger;
}

function required(value: string | undefined, name: string): string {
  if (!value) throw new ConfigError(`${name} is not set`);
  return value;
}

function helpCrunchConnection(config: RuntimeConfig, secrets: SecretCache) {
  const { apiKeySecretId } = config;
  const apiKey: ApiKeySource = {
    async get(options) {
      if (!apiKeySecretId) throw new ConfigError('HELPCRUNCH_API_KEY_SECRET_ID is not set');
      return parseApiKeySecret(
        await secrets.get(apiKeySecretId, { ...options, label: 'The HelpCrunch API key secret' }),
      );
    },
  };
  return { baseUrl: parseApiUrl(config.apiUrl), timeoutMs: config.requestTimeoutMs, apiKey };
}

/**
 * What resolving customers and changing their tags needs: the client given, the rules' lookups (at
 * LOOKUP_ORIGINS, when set), and the ledger (none in a dry run, which must record nothing).
 */
function pipelineDeps(
  rules: RuleSet,
  config: RuntimeConfig,
  secrets: SecretCache,
  helpcrunch: HelpCrunchClient,
  ledger: Ledger | undefined,
  retryPolicy?: RetryPolicy,
): PipelineDeps {
  const lookups = withOrigins(rules.lookups(), config.lookupOrigins);
  return {
    helpcrunch,
    lookups: createLookupResolver({ lookups, secrets, timeoutMs: config.requestTimeoutMs, retryPolicy }),
    dryRun: config.dryRun,
    ledger: config.dryRun ? undefined : ledger,
    maxCustomers: config.maxCustomersPerRequest,
  };
}

/** The ledger of LEDGER_TABLE, loaded when first used (lib/ledger/lazy.ts). */
const ledgerOf = (config: RuntimeConfig): LazyLedger =>
  lazyLedger({ tableName: required(config.ledgerTable, 'LEDGER_TABLE'), dedupDays: config.dedupDays });

/** The webhook and EventBridge functions: the service, dispatching as DISPATCH says. */
export function createRuntime(rules: RuleSet, env: NodeJS.ProcessEnv = process.env, deps: RuntimeDeps = {}): Runtime {
  const config = readConfig(env);
  const secrets = deps.secrets ?? createSecretCache({ ttlMs: config.secretTtlMs });
  // Queue mode resolves nothing here: the triggers only enqueue, and the worker looks customers up.
  if (config.dispatch === 'queue') {
    const dispatch = queueDispatch({
      sqs: deps.sqs ?? sqsApi(),
      queueUrl: required(config.jobsQueueUrl, 'JOBS_QUEUE_URL'),
    });
    return {
      config,
      secrets,
      service: createUntagService({ rules, secrets, dispatch, maxJobs: config.maxJobsPerRequest }),
    };
  }
  // A dry run records nothing: it has no ledger.
  const ledger = config.dryRun ? undefined : (deps.ledger ?? ledgerOf(config));
  const helpcrunch = createHelpCrunchClient(helpCrunchConnection(config, secrets));
  const dispatch = inlineDispatch(pipelineDeps(rules, config, secrets, helpcrunch, ledger));
  return {
    config,
    secrets,
    service: createUntagService({ rules, secrets, dispatch, maxJobs: config.maxJobsPerRequest }),
    ledger,
  };
}

/**
 * The queue worker: a paced single-attempt HelpCrunch client, a single-attempt lookup resolver (a
 * retry is the message coming back after its backoff; senders' APIs are not HelpCrunch's to pace),
 * and the queues it settles messages in. WORKER_QUEUE says which queue it drains: the live jobs
 * queue, yielding a running backfill's share of the rate, or a backfill's, at the share its messages
 * say (lib/queue/rate-share.ts). Either counts what it settles of a backfill run in the ledger, dry
 * run or not: the counts change no customer.
 */
export function createWorkerRuntime(
  rules: RuleSet,
  env: NodeJS.ProcessEnv = process.env,
  deps: RuntimeDeps = {},
): WorkerRuntime {
  const config = readConfig(env);
  const secrets = deps.secrets ?? createSecretCache({ ttlMs: config.secretTtlMs });
  // One bucket per container, kept across warm invocations, at this instance's share of the
  // account's rate: the event source runs at most workerConcurrency instances.
  const ratePerSecond = config.ratePerMinute / config.workerConcurrency / 60;
  const bucket = new TokenBucket({ ratePerSecond });
  const helpcrunch = createPacedHelpCrunchClient({ ...helpCrunchConnection(config, secrets), bucket });
  // The backfill worker must know the ledger to yield to live events; a dry live worker may go without.
  const ledger =
    deps.ledger ??
    (config.ledgerTable || !config.dryRun || config.workerQueue === 'backfill' ? ledgerOf(config) : undefined);
  const pacing = ledger && { bucket, ratePerSecond, activity: ledger.backfill, refreshMs: config.rateShareRefreshMs };
  const worker = createQueueWorker({
    pipeline: pipelineDeps(rules, config, secrets, helpcrunch, ledger, singleAttempt),
    sqs: deps.sqs ?? sqsApi(),
    queueUrl: required(config.jobsQueueUrl, 'JOBS_QUEUE_URL'),
    deadLetterQueueUrl: required(config.deadLetterQueueUrl, 'DEAD_LETTER_QUEUE_URL'),
    maxReceiveCount: config.maxReceiveCount,
    // Room for a search, a delete and a put, each waiting for its token at the pace set now.
    minJobMs: () => 3 * (config.requestTimeoutMs + bucket.intervalMs()) + bucket.heldForMs(),
    pacer: pacing && (config.workerQueue === 'backfill' ? backfillPacer(pacing) : livePacer(pacing)),
    runs: ledger?.runs,
  });
  return { config, secrets, worker, ledger };
}

/** Memoises a successful build; a failed one is retried on the next invocation. */
export function lazy<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}

/** A runtime built on first use; a dry run marks the container's logs and metrics once it is built. */
function lazyMarked<R extends { config: RuntimeConfig }>(build: () => R): () => R {
  return lazy(() => {
    const built = build();
    if (built.config.dryRun) markDryRun();
    return built;
  });
}

export const lazyRuntime = (rules: RuleSet): (() => Runtime) => lazyMarked(() => createRuntime(rules));

export const lazyWorkerRuntime = (rules: RuleSet): (() => WorkerRuntime) =>
  lazyMarked(() => createWorkerRuntime(rules));

/** What a function starts during init, from its config: the secrets it reads and where its first requests go. */
export interface InitWork {
  secretIds: (config: RuntimeConfig) => (string | undefined)[];
  urls: (config: RuntimeConfig) => (string | undefined)[];
}

/**
 * Starts during init what a function's first request would otherwise wait for in turn, in the
 * order that keeps the secret reads (the longest wait) earliest: a connection to Secrets Manager
 * for each read and the first downstream connections (lib/http/warm-connection.ts), then the reads
 * themselves (all at once: one Secrets Manager round trip, not one per secret), and only once they
 * are out, the ledger's modules, whose loading would otherwise hold them back. Nothing is awaited
 * and nothing thrown: a failed read, connection or load is tried again on use, and a runtime that
 * cannot be built (a misconfiguration) is left for the first invocation to report.
 */
export function startInit<R extends { config: RuntimeConfig; secrets: SecretCache; ledger?: Ledger | LazyLedger }>(
  runtime: () => R,
  { secretIds, urls }: InitWork,
): void {
  let built: R;
  try {
    built = runtime();
  } catch {
    return;
  }
  const { config, secrets, ledger } = built;
  const reads = [...new Set(secretIds(config).filter((secretId): secretId is string => Boolean(secretId)))];
  preconnectAll([...reads.map(() => config.secretsUrl), ...urls(config)]);
  for (const secretId of reads) secrets.prefetch(secretId);
  if (ledger && 'load' in ledger) setImmediate(() => ledger.load().catch(() => undefined));
}

/** The API key and every lookup's secret: what a function that resolves customers and changes their tags reads. */
export const resolvingSecretIds =
  (rules: RuleSet) =>
  (config: RuntimeConfig): (string | undefined)[] => [config.apiKeySecretId, ...rules.lookupSecretIds()];

/**
 * Where a function that changes tags sends its first requests: the ledger (none in a dry run), then
 * HelpCrunch. The ledger twice: a unit naming its customer by id asks for its start and the
 * customer's lease together, each over a connection of its own.
 */
export const resolvingUrls = (config: RuntimeConfig): (string | undefined)[] => [
  ...(config.dryRun ? [] : [config.ledgerUrl, config.ledgerUrl]),
  config.apiUrl,
];

/** The first requests of the webhook and EventBridge functions: the ledger and HelpCrunch (inline dispatch), or the jobs queue. */
export const firstRequestUrls = (config: RuntimeConfig): (string | undefined)[] =>
  config.dispatch === 'inline' ? resolvingUrls(config) : [config.jobsQueueUrl];

/** resolvingSecretIds when the trigger does the work itself (inline dispatch); none when it only enqueues. */
export const inlineSecretIds =
  (rules: RuleSet) =>
  (config: RuntimeConfig): (string | undefined)[] =>
    config.dispatch === 'inline' ? resolvingSecretIds(rules)(config) : [];
