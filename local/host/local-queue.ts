/**
 * Queue dispatch, locally: the jobs queue and its dead-letter queue in a local SQS, set up as
 * serverless.yml sets them up (FIFO, visibility timeout, redrive backstop, names as `--stage local`
 * would deploy them), and Lambda's SQS poller invoking the worker function with the worker's event
 * source settings (batch size, maximum concurrency; a FIFO queue's takes no batching window).
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
  const { fifo, visibilityTimeoutSeconds, maxReceiveCount } = config;
  const sqs = await startSqsEndpoint({
    port,
    queues: [
      { name: names.deadLetters, fifo, visibilityTimeoutSeconds },
      {
        name: names.jobs,
        fifo,
        visibilityTimeoutSeconds,
        redrive: { deadLetterQueue: names.deadLetters, maxReceiveCount },
      },
    ],
  });
  return { sqs, jobsQueueUrl: sqs.queueUrl(names.jobs), deadLetterQueueUrl: sqs.queueUrl(names.deadLetters), config };
}

/** The worker's event source, as serverless.yml configures it. */
export function driveWorker(queue: LocalQueue, functions: LocalFunctions): SqsEventSource {
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
    maximumBatchingWindowMs: config.maximumBatchingWindowSeconds * 1000,
    maximumConcurrency: config.maximumConcurrency,
  });
}
