/**
 * Jobs-queue consumer (SQS event source with ReportBatchItemFailures, at most maximumConcurrency instances):
 * each message is done, retried later or dead-lettered by lib/queue/worker.ts; this adapter
 * answers Lambda with the batch item failures.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { observed } from '../lib/observability';
import { recordMessageResults } from '../lib/queue/observability';
import { batchResponse } from '../lib/queue/worker';
import { RetryBudget } from '../lib/http/retry';
import { bundledRules } from '../lib/rules/bundled';
import { lazyWorkerRuntime, resolvingSecretIds, resolvingUrls, startInit } from '../lib/runtime';

const runtime = lazyWorkerRuntime(bundledRules);
startInit(runtime, { secretIds: resolvingSecretIds(bundledRules), urls: resolvingUrls });

async function consume(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  // A misconfigured worker throws here: the whole batch stays in the queue and the error alarm fires.
  const { config, worker } = runtime();
  const results = await worker.processBatch(event.Records, RetryBudget.fromContext(context, config.safetyMarginMs));
  recordMessageResults(results);
  return batchResponse(results);
}

export const handler = observed(consume);
