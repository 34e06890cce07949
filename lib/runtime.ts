/**
 * Per-container wiring from the environment. Built lazily and memoised once it succeeds: a build
 * tried during init that fails is left for the first invocation, so a misconfiguration answers
 * with a clear ConfigError instead of a failed cold start.
 */
import { readConfig, type RuntimeConfig } from './config';
import { ConfigError } from './errors';
import { parseApiUrl } from './helpcrunch/api-url';
import { createHelpCrunchClient, type ApiKeySource } from './helpcrunch/client';
import { queueDispatch } from './queue/enqueue';
import { createPacedHelpCrunchClient } from './queue/paced-client';
import { sqsApi, type SqsApi } from './queue/sqs-api';
import { TokenBucket } from './queue/token-bucket';
import { createQueueWorker, type QueueWorker } from './queue/worker';
import type { RuleSet } from './rules/match';
import type { WebhookSourceConfig } from './rules/types';
import { createSecretCache, parseApiKeySecret, type SecretCache } from './secrets';
import { createUntagService, inlineDispatch, type UntagService } from './untag-service';

export interface Runtime {
  config: RuntimeConfig;
  secrets: SecretCache;
  service: UntagService;
}

export interface WorkerRuntime {
  config: RuntimeConfig;
  secrets: SecretCache;
  worker: QueueWorker;
}

/** Stand-ins for the AWS services, for the local simulation and benchmark; Lambda uses the SDK. */
export interface RuntimeDeps {
  sqs?: SqsApi;
  secrets?: SecretCache;
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
      return parseApiKeySecret(await secrets.get(apiKeySecretId, { ...options, label: 'The HelpCrunch API key secret' }));
    },
  };
  return { baseUrl: parseApiUrl(config.apiUrl), timeoutMs: config.requestTimeoutMs, apiKey };
}

/** The webhook and EventBridge functions: the service, dispatching as DISPATCH says. */
export function createRuntime(rules: RuleSet, env: NodeJS.ProcessEnv = process.env, deps: RuntimeDeps = {}): Runtime {
  const config = readConfig(env);
  const secrets = deps.secrets ?? createSecretCache({ ttlMs: config.secretTtlMs });
  const dispatch =
    config.dispatch === 'queue'
      ? queueDispatch({ sqs: deps.sqs ?? sqsApi(), queueUrl: required(config.jobsQueueUrl, 'JOBS_QUEUE_URL') })
      : inlineDispatch(createHelpCrunchClient(helpCrunchConnection(config, secrets)));
  return { config, secrets, service: createUntagService({ rules, secrets, dispatch, maxJobs: config.maxJobsPerRequest }) };
}

/** The queue worker: a paced single-attempt HelpCrunch client, and the queues it settles messages in. */
export function createWorkerRuntime(env: NodeJS.ProcessEnv = process.env, deps: RuntimeDeps = {}): WorkerRuntime {
  const config = readConfig(env);
  const secrets = deps.secrets ?? createSecretCache({ ttlMs: config.secretTtlMs });
  // One bucket per container, kept across warm invocations, at this instance's share of the
  // account's rate: the event source runs at most workerConcurrency instances.
  const ratePerMinute = config.ratePerMinute / config.workerConcurrency;
  const bucket = new TokenBucket({ ratePerSecond: ratePerMinute / 60 });
  const tokenIntervalMs = 60_000 / ratePerMinute;
  const worker = createQueueWorker({
    helpcrunch: createPacedHelpCrunchClient({ ...helpCrunchConnection(config, secrets), bucket }),
    sqs: deps.sqs ?? sqsApi(),
    queueUrl: required(config.jobsQueueUrl, 'JOBS_QUEUE_URL'),
    deadLetterQueueUrl: required(config.deadLetterQueueUrl, 'DEAD_LETTER_QUEUE_URL'),
    maxReceiveCount: config.maxReceiveCount,
    // Room for a search and a delete, each waiting for its token.
    minJobMs: 2 * (config.requestTimeoutMs + tokenIntervalMs),
  });
  return { config, secrets, worker };
}

/** Memoises a successful build; a failed one is retried on the next invocation. */
export function lazy<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}

export function lazyRuntime(rules: RuleSet): () => Runtime {
  return lazy(() => createRuntime(rules));
}

/**
 * Starts reading, during init and all at once, the secrets a function will need, so its first
 * request waits for one Secrets Manager round trip at most, not one per secret in turn. Nothing is
 * awaited and nothing thrown: a failed read is retried on use, inside the invocation's budget, and
 * a misconfiguration is left for the first invocation to answer.
 */
export function startSecretReads<R extends { config: RuntimeConfig; secrets: SecretCache }>(
  runtime: () => R,
  secretIds: (config: RuntimeConfig) => (string | undefined)[],
): void {
  let built: R;
  try {
    built = runtime();
  } catch {
    return;
  }
  for (const secretId of secretIds(built.config)) if (secretId) built.secrets.prefetch(secretId);
}

/** The first request of the webhook and EventBridge functions: HelpCrunch (inline dispatch), or the jobs queue. */
export const firstRequestUrl = (config: RuntimeConfig): string | undefined =>
  config.dispatch === 'inline' ? config.apiUrl : config.jobsQueueUrl;

/** Every webhook source's signing secret. */
export const signingSecretIds = (sources: Record<string, WebhookSourceConfig>): string[] =>
  Object.values(sources).flatMap(({ verify }) => ('secretId' in verify ? [verify.secretId] : []));

/** The API key, when this function calls HelpCrunch itself (inline dispatch). */
export const inlineApiKey = (config: RuntimeConfig): (string | undefined)[] => (config.dispatch === 'inline' ? [config.apiKeySecretId] : []);
