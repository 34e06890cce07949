/**
 * Queue dispatch, locally: the jobs queue and its dead-letter queue in a local SQS, set up as
 * serverless.yml sets them up (visibility timeout, redrive after maxReceiveCount, names as
 * `--stage local` would deploy them), and Lambda's SQS poller invoking the worker function with the
 * worker's event source settings (batch size, batching window, maximum concurrency).
 */
import { startSqsEndpoint, type SqsEndpoint } from '../sandbox/sqs-endpoint';
import type { LocalFunctions } from './local-functions';
import { localQueueNames, readWorkerQueueConfig, type WorkerQueueConfig } from './serverless-config';
import { startSqsEventSource, type SqsEventSource } from './sqs-event-source';

export interface LocalQueue {
  sqs: SqsEndpoint;
  jobsQueueUrl: string;
  deadLetterQueueUrl: string;
  config: WorkerQueueConfig;
}

export async function startLocalQueue(port: number): Promise<LocalQueue> {
  const config = readWorkerQueueConfig();
  const names = localQueueNames();
  const sqs = await startSqsEndpoint({
    port,
    queues: [
      { name: names.deadLetters, visibilityTimeoutSeconds: config.visibilityTimeoutSeconds },
      {
        name: names.jobs,
        visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
        redrive: { deadLetterQueue: names.deadLetters, maxReceiveCount: config.maxReceiveCount },
      },
    ],
  });
  return { sqs, jobsQueueUrl: sqs.queueUrl(names.jobs), deadLetterQueueUrl: sqs.queueUrl(names.deadLetters), config };
}

/** The worker's event source; `batchingWindowMs` overrides serverless.yml's window (tests, one-shot runs). */
export function driveWorker(queue: LocalQueue, functions: LocalFunctions, batchingWindowMs?: number): SqsEventSource {
  const { config } = queue;
  return startSqsEventSource({
    model: queue.sqs.model,
    queueUrl: queue.jobsQueueUrl,
    async invoke(event) {
      const result = await functions.invoke('worker', event);
      if (!result.ok) throw new Error(`${result.error.errorType}: ${result.error.errorMessage}`);
      return result.value;
    },
    batchSize: config.batchSize,
    maximumBatchingWindowMs: batchingWindowMs ?? config.maximumBatchingWindowSeconds * 1000,
    maximumConcurrency: config.maximumConcurrency,
  });
}
