/**
 * WORKER_CONCURRENCY: how many worker instances share the account's HelpCrunch rate. Each sizes
 * its token bucket at ratePerMinute / WORKER_CONCURRENCY (lib/runtime.ts), so the event source's
 * maximumConcurrency instances together stay at the rate.
 */
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../lib/config';
import { ConfigError } from '../lib/errors';
import { RetryBudget } from '../lib/http/retry';
import { compileRules } from '../lib/rules/match';
import { createWorkerRuntime } from '../lib/runtime';
import { toSqsRecord } from '../local/host/sqs-event-source';
import { SqsModel } from '../local/sandbox/sqs-model';

describe('WORKER_CONCURRENCY', () => {
  it('defaults to one instance, which then paces at the whole rate', () => {
    expect(readConfig({}).workerConcurrency).toBe(1);
  });

  it('reads the instances serverless.yml allows the event source', () => {
    expect(readConfig({ WORKER_CONCURRENCY: '3', HELPCRUNCH_RATE_PER_MINUTE: '90' })).toMatchObject({
      workerConcurrency: 3,
      ratePerMinute: 90,
    });
  });

  it.each(['0', '-2', '1.5', 'two'])('refuses %s', (value) => {
    expect(() => readConfig({ WORKER_CONCURRENCY: value })).toThrow(ConfigError);
    expect(() => readConfig({ WORKER_CONCURRENCY: value })).toThrow(
      `WORKER_CONCURRENCY must be an integer >= 1, got '${value}'`,
    );
  });

  it('sizes the worker’s pace at its share: half the rate leaves twice the time per token', async () => {
    // At 6/min a token comes every 10 s for one instance and every 20 s for each of two, so a job
    // (a search, a delete and a put, each with its 5 s timeout and token wait) needs 45 s or 75 s
    // of the invocation. With 60 s left, one instance starts the message, each of two defers it.
    const model = new SqsModel();
    const deadLetterQueueUrl = model.createQueue('jobs-dlq', { visibilityTimeoutSeconds: 30 });
    const queueUrl = model.createQueue('jobs', { visibilityTimeoutSeconds: 30 });
    const actionWith = async (instances: string) => {
      // An unreadable body: started, it is dead-lettered without a HelpCrunch request.
      await model.sendMessage({ QueueUrl: queueUrl, MessageBody: 'not a job' });
      const [message] = model.receive(queueUrl, 1);
      const record: SQSRecord = toSqsRecord(message!, model.arnOf(queueUrl), 'us-east-1');
      const { worker } = createWorkerRuntime(
        compileRules({ sources: {}, eventSources: {}, lookups: {}, rules: [] }),
        {
          HELPCRUNCH_API_URL: 'https://api.helpcrunch.com/v1',
          HELPCRUNCH_API_KEY_SECRET_ID: 'unused',
          HELPCRUNCH_RATE_PER_MINUTE: '6',
          HELPCRUNCH_TIMEOUT_MS: '5000',
          WORKER_CONCURRENCY: instances,
          JOBS_QUEUE_URL: queueUrl,
          DEAD_LETTER_QUEUE_URL: deadLetterQueueUrl,
          // Never reached: an unreadable body is dead-lettered before the ledger is asked.
          LEDGER_TABLE: 'unused',
        },
        { sqs: model, secrets: { get: async () => 'unused', prefetch: () => undefined, clear: () => undefined } },
      );
      const [result] = await worker.processBatch(
        [record],
        RetryBudget.until(60_000, () => 0),
      );
      return result!.action;
    };

    expect(await actionWith('1')).toBe('dead-letter');
    expect(await actionWith('2')).toBe('deferred');
  });
});
