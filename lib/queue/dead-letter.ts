/**
 * Dead-lettering with a reason. The worker sends a job that cannot succeed to the dead-letter
 * queue itself, with why as message attributes, so operators (and scripts/redrive.ts) can see
 * what went wrong before redriving. Messages SQS moved there on its own carry no reason.
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SqsApi } from './sqs-api';

export interface DeadLetterReason {
  /** An error code, e.g. helpcrunch_bad_request, invalid_message, helpcrunch_unavailable. */
  code: string;
  /** The error's message; never carries secrets (see lib/errors.ts). */
  detail: string;
}

const maxDetailLength = 1_000;
const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

export async function sendToDeadLetter(
  sqs: SqsApi,
  queueUrl: string,
  body: string,
  reason: DeadLetterReason,
): Promise<void> {
  await sqs.sendMessage({
    QueueUrl: queueUrl,
    MessageBody: body,
    MessageAttributes: {
      reason: text(reason.code),
      // SQS refuses empty attribute values.
      reasonDetail: text(reason.detail.slice(0, maxDetailLength) || reason.code),
      failedAt: text(new Date().toISOString()),
    },
  });
}

/** The reason a dead-lettered message carries, or undefined when SQS moved it (no attributes). */
export function deadLetterReason(
  attributes: Record<string, MessageAttributeValue> | undefined,
): DeadLetterReason | undefined {
  const code = attributes?.reason?.StringValue;
  return code ? { code, detail: attributes?.reasonDetail?.StringValue ?? '' } : undefined;
}
