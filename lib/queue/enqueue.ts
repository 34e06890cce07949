/**
 * Units -> jobs-queue messages with SendMessageBatch, oldest event first: at most 10 entries and
 * 256 KiB per batch. The queue is FIFO: each message is in its customer's group, with a
 * deduplication id a sender's retry of the event repeats (fifo-ids.ts). Entries SQS fails on its
 * side are re-sent (only those) a couple of times within the caller's time budget; anything still
 * unsent is an error for the caller, never a silent drop.
 */
import type { SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { asUntagError, BadEventError, ConfigError } from '../errors';
import { withRetry, type RetryBudget, type RetryPolicy } from '../http/retry';
import { byOccurrence } from '../pipeline/units';
import type { Unit } from '../types';
import { messageGroupId, unitDeduplicationId } from './fifo-ids';
import { type BackfillTag, jobMessage } from './job-message';
import { sqsFailure, type SqsApi } from './sqs-api';

const MAX_BATCH_ENTRIES = 10;
export const MAX_BATCH_BYTES = 256 * 1024;
// A dead-lettered message is this body plus reason attributes; keep room for them.
const MAX_MESSAGE_BYTES = MAX_BATCH_BYTES - 4 * 1024;

export interface EnqueueOptions {
  sqs: SqsApi;
  queueUrl: string;
  budget: RetryBudget;
  /** Re-sends of failed entries; default 3 attempts, 100 ms base backoff. */
  retryPolicy?: RetryPolicy;
  /** A backfill's messages: its run (and dry run) in each. */
  backfill?: BackfillTag;
}

const defaultEnqueuePolicy: RetryPolicy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 };
// SDK calls retry themselves; this bounds how long one of ours may take (less when the budget has less).
const sendTimeoutMs = 5_000;

/** Entries SQS failed on its side (SenderFault false); only withRetry sees it. */
class UnsentEntries extends Error {}

/** Sends one message per unit; resolves with the count, or throws RetryableError / ConfigError / BadEventError. */
export async function enqueueUnits(units: Unit[], options: EnqueueOptions): Promise<number> {
  const { backfill } = options;
  const entries = byOccurrence(units).map((unit, index) => ({
    Id: String(index),
    MessageBody: JSON.stringify(jobMessage(unit, 0, backfill)),
    MessageGroupId: messageGroupId(unit.customer),
    MessageDeduplicationId: unitDeduplicationId(unit, backfill),
  }));
  // Every message is checked before any is sent, so a bad event is refused with nothing enqueued.
  for (const entry of entries) {
    if (Buffer.byteLength(entry.MessageBody) > MAX_MESSAGE_BYTES) {
      throw new BadEventError(
        'job_too_large',
        `A job is larger than the ${MAX_MESSAGE_BYTES}-byte queue message limit`,
      );
    }
  }
  for (const batch of batches(entries)) await sendBatch(batch, options);
  return entries.length;
}

/** Consecutive entries, at most MAX_BATCH_ENTRIES and MAX_BATCH_BYTES of bodies per batch. */
function batches(entries: SendMessageBatchRequestEntry[]): SendMessageBatchRequestEntry[][] {
  const result: SendMessageBatchRequestEntry[][] = [];
  let current: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(entry.MessageBody!);
    if (current.length === MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) result.push(current);
  return result;
}

async function sendBatch(
  entries: SendMessageBatchRequestEntry[],
  { sqs, queueUrl, budget, retryPolicy = defaultEnqueuePolicy }: EnqueueOptions,
) {
  let unsent = entries;
  const attempt = async (_attempt: number, timeoutMs: number) => {
    let sent: Awaited<ReturnType<SqsApi['sendMessageBatch']>>;
    try {
      sent = await sqs.sendMessageBatch(
        { QueueUrl: queueUrl, Entries: unsent },
        { abortSignal: AbortSignal.timeout(timeoutMs) },
      );
    } catch (error) {
      throw sqsFailure('SendMessageBatch', error);
    }
    const failed = sent.Failed ?? [];
    const refused = failed.find((entry) => entry.SenderFault);
    if (refused) throw new ConfigError(`SQS refused a job message (${refused.Code})`, 'queue_misconfigured');
    const failedIds = new Set(failed.map((entry) => entry.Id));
    unsent = unsent.filter((entry) => failedIds.has(entry.Id));
    if (unsent.length > 0) {
      throw new UnsentEntries(`SQS failed ${unsent.length} of ${entries.length} job messages (${failed[0]!.Code})`);
    }
  };
  try {
    await withRetry(attempt, {
      budget,
      policy: retryPolicy,
      classify: (error) =>
        error instanceof UnsentEntries ? { retryable: true, reason: error.message } : { retryable: false },
      attemptTimeoutMs: sendTimeoutMs,
      unavailable: { code: 'queue_unavailable', subject: 'The jobs queue' },
    });
  } catch (error) {
    throw asUntagError(error);
  }
}
