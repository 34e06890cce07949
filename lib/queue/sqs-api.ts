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

export interface SqsApi {
  sendMessageBatch(input: SendMessageBatchCommandInput): Promise<Pick<SendMessageBatchCommandOutput, 'Successful' | 'Failed'>>;
  sendMessage(input: SendMessageCommandInput): Promise<unknown>;
  changeMessageVisibility(input: ChangeMessageVisibilityCommandInput): Promise<unknown>;
}

/** The port over the real SDK; the client is configured by the Lambda environment (region, credentials). */
export function sqsApi(client: SQSClient = new SQSClient({})): SqsApi {
  return {
    sendMessageBatch: (input) => client.send(new SendMessageBatchCommand(input)),
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
