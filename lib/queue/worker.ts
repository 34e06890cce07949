/**
 * The jobs-queue consumer. Each message holds one job; it is run through the same pipeline as
 * the inline path and then settles one way:
 *
 *   done         untagged, tagged or skipped (would_… in a dry run): reported as success, so SQS deletes it
 *   retry        429, 5xx, timeout (HelpCrunch's or a lookup's) or a configuration problem: reported
 *                as a batch item failure after its visibility timeout is set to the backoff
 *                (Retry-After as a floor)
 *   dead-letter  a permanent failure (HelpCrunch 400, a lookup naming too many customers, a
 *                malformed body), or a retryable one on its last receive: sent to the dead-letter
 *                queue with the reason, reported as success
 *   deferred     not started because the invocation is running out of time: a batch item
 *                failure, visible again after the queue's own visibility timeout
 *   held         not started because an earlier message of its group (its customer) in this batch
 *                was retried, deferred or held: a batch item failure, so the group comes back in
 *                its order. Lambda's FIFO event source leaves this to the function.
 *
 * A message is reported as success only once its job is done, skipped or safely in the dead-letter
 * queue; any other path leaves it in the queue, so nothing is lost.
 *
 * On the FIFO jobs queue SQS hands out nothing more of a group while one of its messages is in
 * flight. A held message is released (visible at once) when the message it waits behind was
 * re-timed, so the group's wait is that message's backoff rather than the queue's visibility
 * timeout; it still cannot come back before that message. A worker that dies mid-batch settles
 * nothing: the batch's messages come back after the visibility timeout, each group still in order,
 * and until then their groups wait (other customers' do not).
 *
 * The same code drains a backfill's queue (lib/queue/rate-share.ts: live events first). A message
 * of a backfill run is counted under its run once settled for good (lib/ledger/runs.ts), and one
 * marked `dryRun` runs as a dry run whatever the function's DRY_RUN.
 */
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { asUntagError, BadEventError, ConfigError, operatorMessage, type UntagError } from '../errors';
import { executeUnits, type PipelineDeps } from '../pipeline';
import { backoffDelay, type RetryBudget, type RetryPolicy } from '../http/retry';
import type { Outcome, RequestCounts } from '../types';
import { sendToDeadLetter, type DeadLetterReason } from './dead-letter';
import { type JobMessage, parseJobMessage, unitOf } from './job-message';
import { unitDigest } from '../pipeline/units';
import type { Pacer } from './rate-share';
import { sqsFailure, type SqsApi } from './sqs-api';
import type { RunLedger } from '../ledger/runs';
import { RunTally } from '../ledger/run-tally';
import { logger } from '../observability';

export type MessageAction = 'done' | 'retry' | 'dead-letter' | 'deferred' | 'held';

export interface MessageResult {
  messageId: string;
  action: MessageAction;
  /** SQS's ApproximateReceiveCount for this delivery. */
  receiveCount: number;
  /** From the body, when it could be read. */
  eventId?: string;
  /** From the body: the backfill run it belongs to, and its jobs' rules. */
  run?: { id: string; rules: string[] };
  /** When the body could be read: attempts including this one (earlier ones, e.g. before a redrive, plus receiveCount). */
  attempt?: number;
  outcomes: Outcome[];
  /** The requests its job made, when it ran. */
  requests?: RequestCounts;
  /** Why the job was retried or dead-lettered. */
  error?: UntagError;
  /** retry: seconds until the message is received again; absent when the change failed. */
  visibilitySeconds?: number;
  /** held: the message of its group it waits behind. */
  heldBehind?: string;
  /** An SQS call that failed while settling the message (it then stays in the queue). */
  queueError?: UntagError;
}

export interface QueueWorkerOptions {
  /** A paced, single-attempt HelpCrunch client (see paced-client.ts) and a single-attempt lookup resolver. */
  pipeline: PipelineDeps;
  sqs: SqsApi;
  queueUrl: string;
  deadLetterQueueUrl: string;
  /** The last attempt that may retry (serverless.yml's maxReceiveCount), counted in the ledger; the queue's own redrive policy is a backstop far above it. */
  maxReceiveCount: number;
  /** Least time left in the budget to start a message (a search, a delete and a put), as the pace is now. */
  minJobMs: number | (() => number);
  /** Sets the pace before each message (live first: lib/queue/rate-share.ts); none: the bucket's own. */
  pacer?: Pacer;
  /** Where a backfill run's settled messages are counted; none: not counted. */
  runs?: RunLedger;
  /** Backoff over receives for retryable failures; default 10 s base, 15 min cap, full jitter. */
  backoff?: RetryPolicy;
  /** Least wait after a configuration problem, which an operator has to fix; default 5 min. */
  configRetryDelayMs?: number;
  random?: () => number;
}

export interface QueueWorker {
  processBatch(records: SQSRecord[], budget: RetryBudget): Promise<MessageResult[]>;
}

const defaultVisibilityBackoff: RetryPolicy = {
  maxAttempts: Number.POSITIVE_INFINITY,
  baseDelayMs: 10_000,
  maxDelayMs: 900_000,
};
/** SQS's limit for a visibility timeout. */
const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;

const receiveCountOf = (record: SQSRecord) => Math.max(1, Number(record.attributes.ApproximateReceiveCount) || 1);
/** The record's message group: FIFO records carry one; a standard queue's message is a group of its own. */
const groupOf = (record: SQSRecord) => record.attributes.MessageGroupId ?? `message:${record.messageId}`;

/** A 4xx other than 429 from HelpCrunch, or a body we cannot read: retrying can never help. */
const isPermanent = (error: UntagError) => error instanceof BadEventError;

/**
 * Configuration errors met earlier in a batch, which later jobs would meet too: under EVERY_JOB
 * (HelpCrunch's key, its URL), or under one lookup's scope (its secret, its URL) for that lookup's jobs.
 */
type Halts = Map<string, UntagError>;
const EVERY_JOB = '*';
const lookupScope = (lookup: string) => `lookup:${lookup}`;
const haltFor = (halts: Halts, { customer }: JobMessage) =>
  halts.get(EVERY_JOB) ?? (customer.by === 'lookup' ? halts.get(lookupScope(customer.lookup)) : undefined);

export function createQueueWorker(options: QueueWorkerOptions): QueueWorker {
  const { pipeline, sqs, queueUrl, deadLetterQueueUrl, maxReceiveCount, pacer, runs } = options;
  const minJobMs = typeof options.minJobMs === 'number' ? () => options.minJobMs as number : options.minJobMs;
  const { backoff = defaultVisibilityBackoff, configRetryDelayMs = 300_000, random = Math.random } = options;

  function visibilitySeconds(error: UntagError, receiveCount: number): number {
    const retryAfterMs = (error as { retryAfterMs?: number }).retryAfterMs;
    const delayMs = Math.max(
      backoffDelay(receiveCount - 1, backoff, retryAfterMs, random),
      error instanceof ConfigError ? configRetryDelayMs : 0,
    );
    // At least 1 s: 0 would hand the message straight back to this very poll.
    return Math.min(MAX_VISIBILITY_SECONDS, Math.max(1, Math.ceil(delayMs / 1000)));
  }

  async function deadLetter(
    record: SQSRecord,
    body: string,
    result: MessageResult,
    reason: DeadLetterReason,
  ): Promise<MessageResult> {
    try {
      const { messageId, attributes } = record;
      await sendToDeadLetter(sqs, deadLetterQueueUrl, { body, messageId, groupId: attributes.MessageGroupId }, reason);
      return { ...result, action: 'dead-letter' };
    } catch (error) {
      // Not in the dead-letter queue, so it must stay in this one: its next receive tries again.
      return { ...result, action: 'retry', queueError: sqsFailure('SendMessage to the dead-letter queue', error) };
    }
  }

  /**
   * How many times this unit was really tried, this one included: counted in the ledger, since on a
   * FIFO queue the receive count also counts receives of messages held behind their group. Without
   * the ledger (a dry run, or the ledger failing now) the receive count stands in: it can only be higher.
   */
  async function attemptsOf(message: JobMessage, receiveCount: number, budget: RetryBudget): Promise<number> {
    const ledger = pipeline.dryRun || message.dryRun ? undefined : pipeline.ledger;
    if (!ledger) return receiveCount;
    // Per delivery of the unit: a redriven copy (its body's `attempt` grown) starts counting afresh.
    const key = `${unitDigest(message)}:${message.attempt}`;
    return ledger.attempts.failed(key, budget).catch(() => receiveCount);
  }

  async function retryLater(
    record: SQSRecord,
    message: JobMessage,
    started: MessageResult,
    error: UntagError,
    tries: number,
  ): Promise<MessageResult> {
    const attempt = message.attempt + tries;
    const result = { ...started, error, attempt };
    if (tries >= maxReceiveCount) {
      const reason = { code: error.code, detail: `${operatorMessage(error)} (gave up after ${attempt} attempts)` };
      return deadLetter(record, JSON.stringify({ ...message, attempt }), result, reason);
    }
    const seconds = visibilitySeconds(error, tries);
    try {
      await sqs.changeMessageVisibility({
        QueueUrl: queueUrl,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: seconds,
      });
      return { ...result, visibilitySeconds: seconds };
    } catch (changeError) {
      // Still a failure: the message comes back after the queue's visibility timeout instead.
      return { ...result, queueError: sqsFailure('ChangeMessageVisibility', changeError) };
    }
  }

  async function processRecord(record: SQSRecord, budget: RetryBudget, halts: Halts): Promise<MessageResult> {
    const received: MessageResult = {
      messageId: record.messageId,
      action: 'retry',
      receiveCount: receiveCountOf(record),
      outcomes: [],
    };
    let message: JobMessage;
    try {
      message = parseJobMessage(record.body, Number(record.attributes.SentTimestamp) || Date.now());
    } catch (error) {
      const invalid = asUntagError(error);
      return deadLetter(
        record,
        record.body,
        { ...received, error: invalid },
        { code: invalid.code, detail: operatorMessage(invalid) },
      );
    }
    const attempt = message.attempt + received.receiveCount;
    const run = message.run && { id: message.run.id, rules: message.jobs.map((job) => job.rule) };
    const started: MessageResult = { ...received, eventId: message.event.id, attempt, ...(run && { run }) };
    // Not tried: a problem an earlier message met that this one would meet too. It backs off as after a first attempt, uncounted.
    const halted = haltFor(halts, message);
    if (halted) return retryLater(record, message, started, halted, 1);
    try {
      await pacer?.pace(message, budget);
    } catch (error) {
      // The share of the rate is unknown: nothing is sent; tried again as after a first attempt, uncounted.
      return retryLater(record, message, started, asUntagError(error), 1);
    }

    const deps = message.dryRun ? { ...pipeline, dryRun: true } : pipeline;
    const { outcomes, failure, failedLookup, requests } = await executeUnits([unitOf(message)], deps, budget);
    const ran = { ...started, outcomes, requests };
    if (!failure) return { ...ran, action: 'done' };
    if (failure instanceof ConfigError) {
      const scope = failedLookup ? lookupScope(failedLookup) : EVERY_JOB;
      if (!halts.has(scope)) halts.set(scope, failure);
    }
    if (isPermanent(failure)) {
      return deadLetter(
        record,
        JSON.stringify({ ...message, attempt }),
        { ...ran, error: failure },
        { code: failure.code, detail: operatorMessage(failure) },
      );
    }
    return retryLater(record, message, ran, failure, await attemptsOf(message, received.receiveCount, budget));
  }

  /** Makes a held message visible again: its group still waits for the message it was held behind. */
  async function release(record: SQSRecord, held: MessageResult): Promise<MessageResult> {
    try {
      await sqs.changeMessageVisibility({
        QueueUrl: queueUrl,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: 0,
      });
      return held;
    } catch (error) {
      // Harmless: it comes back after the queue's visibility timeout instead, still behind its group.
      return { ...held, queueError: sqsFailure('ChangeMessageVisibility', error) };
    }
  }

  return {
    async processBatch(records, budget) {
      const results: MessageResult[] = [];
      const halts: Halts = new Map();
      // Per group, the message whose failure holds back the rest of the group in this batch.
      const blockers = new Map<string, MessageResult>();
      const releasing = new Map<MessageResult, SQSRecord>();
      for (const record of records) {
        const receiveCount = receiveCountOf(record);
        const group = groupOf(record);
        const blocker = blockers.get(group);
        if (blocker) {
          const result: MessageResult = {
            messageId: record.messageId,
            action: 'held',
            receiveCount,
            outcomes: [],
            heldBehind: blocker.messageId,
          };
          if (blocker.visibilitySeconds !== undefined) releasing.set(result, record);
          results.push(result);
          continue;
        }
        let result: MessageResult;
        if (!halts.has(EVERY_JOB) && budget.remainingMs() < minJobMs()) {
          result = { messageId: record.messageId, action: 'deferred', receiveCount, outcomes: [] };
        } else {
          // Nothing above should throw; if it does, the message stays in the queue all the same.
          result = await processRecord(record, budget, halts).catch((error: unknown): MessageResult => {
            const unexpected = asUntagError(error);
            if (unexpected instanceof ConfigError && !halts.has(EVERY_JOB)) halts.set(EVERY_JOB, unexpected);
            return { messageId: record.messageId, action: 'retry', receiveCount, outcomes: [], error: unexpected };
          });
        }
        if (isBatchItemFailure(result)) blockers.set(group, result);
        results.push(result);
      }
      const settled = await Promise.all(
        results.map((result) => {
          const record = releasing.get(result);
          return record ? release(record, result) : result;
        }),
      );
      if (runs) await countRuns(runs, settled, budget);
      return settled;
    },
  };
}

/**
 * Adds what this batch settled for good to each backfill run's counts: done messages by their jobs'
 * outcomes, dead-lettered ones as failed with the reason. A count that cannot be written is only
 * logged: the jobs are done, and the CLI's progress is all it costs.
 */
async function countRuns(runs: RunLedger, results: MessageResult[], budget: RetryBudget): Promise<void> {
  const tallies = new Map<string, RunTally>();
  for (const result of results) {
    if (!result.run || (result.action !== 'done' && result.action !== 'dead-letter')) continue;
    const tally = tallies.get(result.run.id) ?? new RunTally();
    tallies.set(result.run.id, tally);
    tally.units += 1;
    if (result.action === 'done') {
      for (const { rule, status, reason } of result.outcomes) tally.outcome({ rule, status, reason });
      continue;
    }
    const reason = result.error?.code ?? 'dead_lettered';
    for (const rule of result.run.rules) {
      tally.outcome({ rule, status: 'failed', reason });
      tally.failure(rule, reason, result.error ? operatorMessage(result.error) : reason);
    }
  }
  await Promise.all(
    [...tallies].map(([runId, tally]) =>
      runs.record(runId, tally, budget).catch((error: unknown) => {
        logger.warn('backfill run not counted', { runId, code: asUntagError(error).code });
      }),
    ),
  );
}

/** Not settled for good: the message stays in the queue. */
const isBatchItemFailure = ({ action }: MessageResult) =>
  action === 'retry' || action === 'deferred' || action === 'held';

/** What Lambda needs back: every message not settled for good is a batch item failure. */
export function batchResponse(results: MessageResult[]): SQSBatchResponse {
  return {
    batchItemFailures: results.filter(isBatchItemFailure).map((result) => ({ itemIdentifier: result.messageId })),
  };
}
