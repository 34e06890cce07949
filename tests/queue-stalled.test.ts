/**
 * Queue mode when SQS accepts the connection and never answers: the real SDK client (no mock),
 * pointed at a loopback endpoint that stalls. The enqueue gives up inside the caller's budget
 * with a retryable queue_unavailable, so the webhook can still answer 503.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RetryableError } from '../lib/errors';
import { enqueueUnits } from '../lib/queue/enqueue';
import { sqsApi } from '../lib/queue/sqs-api';
import { RetryBudget } from '../lib/http/retry';
import { unitsFor } from './support/pipeline';
import { startStallingProxy, type StallingProxy } from './support/stalling-proxy';

let stalled: StallingProxy;

beforeAll(async () => {
  // Never forwards: every connection is accepted and left unanswered.
  stalled = await startStallingProxy('http://127.0.0.1:9');
  stalled.stall(true);
});
afterAll(() => stalled.close());

it('gives up on an SQS that never answers within the budget, as retryable queue_unavailable', async () => {
  const client = new SQSClient({
    endpoint: stalled.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const jobs = [
    { rule: 'deal-lost', customer: { by: 'helpcrunchId' as const, value: 1001 }, removeTags: ['Lead'], addTags: [] },
  ];

  const error = await enqueueUnits(unitsFor(jobs), {
    sqs: sqsApi(client),
    queueUrl: `${stalled.url}/123456789012/jobs.fifo`,
    budget: RetryBudget.until(Date.now() + 1_500),
  }).catch((e: unknown) => e);

  expect(error).toBeInstanceOf(RetryableError);
  expect(error).toMatchObject({ code: 'queue_unavailable' });
  expect(stalled.stalledConnections()).toBeGreaterThanOrEqual(1);
});
