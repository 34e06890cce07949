/**
 * The SQS calls the queue code makes, as a small port: Lambda passes the SDK adapter, the
 * zero-loss simulation and the benchmark pass an in-memory queue model.
 */
import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type ChangeMessageVisibilityCommandInput,
  type SendMessageBatchCommandInput,
  type SendMessageBatchCommandOutput,
  type SendMessageCommandInput,
} from '@aws-sdk/client-sqs';
import { ConfigError, RetryableError, type UntagError } from '../errors';
import { WarmAgent } from '../http/warm-connection';

export interface SqsApi {
  /** `abortSignal` ends a call SQS does not answer in time (the caller's time budget). */
  sendMessageBatch(
    input: SendMessageBatchCommandInput,
    options?: { abortSignal?: AbortSignal },
  ): Promise<Pick<SendMessageBatchCommandOutput, 'Successful' | 'Failed'>>;
  sendMessage(input: SendMessageCommandInput): Promise<unknown>;
  changeMessageVisibility(input: ChangeMessageVisibilityCommandInput): Promise<unknown>;
}

/**
 * The port over the real SDK; the client is configured by the Lambda environment (region,
 * credentials), and every HTTP attempt is bounded, so an SQS that accepts a connection and never
 * answers cannot hold an invocation until Lambda kills it.
 */
export function sqsApi(
  client: SQSClient = new SQSClient({
    // The SDK's own pool settings, on an agent that takes the connection opened at init (lib/http/warm-connection.ts).
    requestHandler: {
      httpsAgent: new WarmAgent({ keepAlive: true, maxSockets: 50 }),
      connectionTimeout: 1_000,
      requestTimeout: 5_000,
      throwOnRequestTimeout: true,
    },
  }),
): SqsApi {
  return {
    sendMessageBatch: (input, options) => client.send(new SendMessageBatchCommand(input), options),
    sendMessage: (input) => client.send(new SendMessageCommand(input)),
    changeMessageVisibility: (input) => client.send(new ChangeMessageVisibilityCommand(input)),
  };
}

// Client faults that pass by themselves; every other client fault needs an operator.
const throttling = new Set(['RequestThrottled', 'KmsThrottled', 'ThrottlingException']);

/**
 * An SQS failure as a typed error: ConfigError when the request itself was refused (missing
 * queue, denied access, bad KMS key), RetryableError when SQS or the network may recover.
 * Only the error's name is kept; SDK messages can carry account ids and queue URLs.
 */
export function sqsFailure(action: string, error: unknown): UntagError {
  const name = error instanceof Error ? error.name : 'UnknownError';
  const fault = (error as { $fault?: unknown } | null)?.$fault;
  if (fault === 'client' && !throttling.has(name)) {
    return new ConfigError(`SQS refused ${action} (${name})`, 'queue_misconfigured');
  }
  return new RetryableError(`SQS unavailable for ${action} (${name})`, undefined, 'queue_unavailable');
}
