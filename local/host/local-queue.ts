/**
 * Queue dispatch, locally: the jobs queue, its dead-letter queue and the backfill queue in a local
 * SQS, set up as serverless.yml sets them up (FIFO, visibility timeout, redrive backstop, names as
 * `--stage local` would deploy them), and Lambda's SQS pollers invoking the worker and backfill
 * functions with their event source settings (batch size, maximum concurrency; a FIFO queue's
 * takes no batching window).
 */
import { startSqsEndpoint, type SqsEndpoint } from '../sandbox/sqs-endpoint';
import type { LocalFunctions } from './local-functions';
import { localQueueNames, readWorkerQueueConfig, type WorkerQueueConfig } from './serverless-config';
import { startSqsEventSource, type SqsEventSource } from './sqs-event-source';

export interface LocalQueue {
  sqs: SqsEndpoint;
  jobsQueueUrl: string;
  deadLetterQueueUrl: string;
  /** The queue `npm run backfill` sends to, drained by the backfill function. */
  backfillQueueUrl: string;
  /** The worker's queue and event source. */
  config: WorkerQueueConfig;
  /** The backfill function's. */
  backfillConfig: WorkerQueueConfig;
}

export async function startLocalQueue(port: number): Promise<LocalQueue> {
  const config = readWorkerQueueConfig('worker');
  const backfillConfig = readWorkerQueueConfig('backfill');
  const names = localQueueNames();
  const queue = ({ fifo, visibilityTimeoutSeconds, maxReceiveCount }: WorkerQueueConfig, name: string) => ({
    name,
    fifo,
    visibilityTimeoutSeconds,
    redrive: { deadLetterQueue: names.deadLetters, maxReceiveCount },
  });
  const sqs = await startSqsEndpoint({
    port,
    queues: [
      { name: names.deadLetters, fifo: config.fifo, visibilityTimeoutSeconds: config.visibilityTimeoutSeconds },
      queue(config, names.jobs),
      queue(backfillConfig, names.backfill),
    ],
  });
  return {
    sqs,
    jobsQueueUrl: sqs.queueUrl(names.jobs),
    deadLetterQueueUrl: sqs.queueUrl(names.deadLetters),
    backfillQueueUrl: sqs.queueUrl(names.backfill),
    config,
    backfillConfig,
  };
}

/** The event source of the worker (`worker`, the jobs queue) or the backfill function (`backfill`, its queue), as serverless.yml configures it. */
export function driveWorker(
  queue: LocalQueue,
  functions: LocalFunctions,
  functionName: 'worker' | 'backfill' = 'worker',
): SqsEventSource {
  const config = functionName === 'worker' ? queue.config : queue.backfillConfig;
  return startSqsEventSource({
    model: queue.sqs.model,
    queueUrl: functionName === 'worker' ? queue.jobsQueueUrl : queue.backfillQueueUrl,
    async invoke(event) {
      const result = await functions.invoke(functionName, event);
      if (!result.ok) throw new Error(`${result.error.errorType}: ${result.error.errorMessage}`);
      return result.value;
    },
    batchSize: config.batchSize,
    maximumBatchingWindowMs: config.maximumBatchingWindowSeconds * 1000,
    maximumConcurrency: config.maximumConcurrency,
  });
}
