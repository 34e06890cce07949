/**
 * Dead-lettering with a reason. The worker sends a job that cannot succeed to the dead-letter
 * queue itself, with why as message attributes, so operators (and scripts/redrive.ts) can see
 * what went wrong before redriving. Messages SQS moved there on its own carry no reason.
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { deadLetterDeduplicationId } from './fifo-ids';
import type { SqsApi } from './sqs-api';

/** A jobs-queue message on its way to the dead-letter queue. */
export interface DeadLetter {
  body: string;
  /** The received message's id: its copy's deduplication id comes from it. */
  messageId: string;
  /** Its message group, kept in the (FIFO) dead-letter queue; undefined from a standard queue. */
  groupId?: string;
}

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
  { body, messageId, groupId }: DeadLetter,
  reason: DeadLetterReason,
): Promise<void> {
  await sqs.sendMessage({
    QueueUrl: queueUrl,
    MessageBody: body,
    ...(groupId !== undefined && {
      MessageGroupId: groupId,
      MessageDeduplicationId: deadLetterDeduplicationId(messageId),
    }),
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
