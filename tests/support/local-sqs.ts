/** The local SQS (local/sandbox/sqs-endpoint.ts) with a jobs queue and its dead-letter queue, and the SDK pointed at it. */
import { SQSClient } from '@aws-sdk/client-sqs';
import { startSqsEndpoint, type SqsEndpoint } from '../../local/sandbox/sqs-endpoint';

export interface LocalSqs {
  endpoint: SqsEndpoint;
  /** As the functions reach it: the endpoint from the environment's AWS_ENDPOINT_URL_SQS, dummy keys. */
  client: SQSClient;
  jobsUrl: string;
  deadLettersUrl: string;
  close(): Promise<void>;
}

export interface LocalSqsOptions {
  /** The jobs queue's name; its dead-letter queue is `<name>-dlq` (both end in .fifo when FIFO). */
  name: string;
  fifo?: boolean;
  visibilityTimeoutSeconds?: number;
  maxReceiveCount: number;
  now?: () => number;
}

export async function startLocalSqs({
  name,
  fifo = false,
  visibilityTimeoutSeconds = 30,
  maxReceiveCount,
  now,
}: LocalSqsOptions): Promise<LocalSqs> {
  const suffix = fifo ? '.fifo' : '';
  const [jobs, deadLetters] = [`${name}${suffix}`, `${name}-dlq${suffix}`];
  const endpoint = await startSqsEndpoint({
    now,
    queues: [
      { name: deadLetters, fifo, visibilityTimeoutSeconds: 30 },
      { name: jobs, fifo, visibilityTimeoutSeconds, redrive: { deadLetterQueue: deadLetters, maxReceiveCount } },
    ],
  });
  const client = new SQSClient({
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  return {
    endpoint,
    client,
    jobsUrl: endpoint.queueUrl(jobs),
    deadLettersUrl: endpoint.queueUrl(deadLetters),
    close: async () => {
      client.destroy();
      await endpoint.close();
    },
  };
}
