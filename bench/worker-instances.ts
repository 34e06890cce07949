/**
 * A queue worker function's concurrent instances as the benches and the delivery tests run them: a worker runtime each
 * (its own token bucket at its share of the rate, as on Lambda), fed by the local event source,
 * each batch handed to a free instance with the Lambda's 60 s to finish it.
 */
import type { SQSRecord } from 'aws-lambda';
import { RetryBudget } from '../lib/http/retry';
import { batchResponse, type MessageResult } from '../lib/queue/worker';
import { compileRules, type RuleSet } from '../lib/rules/match';
import { createWorkerRuntime, type RuntimeDeps } from '../lib/runtime';
import { type SqsEventSource, startSqsEventSource } from '../local/host/sqs-event-source';
import type { SqsModel } from '../local/sandbox/sqs-model';

export interface WorkerInstancesOptions {
  /** Instances, and batches in flight at most: the event source's maximumConcurrency. */
  count: number;
  /** The rules the workers resolve customers with; default none (jobs that name their customers directly). */
  rules?: RuleSet;
  /** The runtime's environment (HelpCrunch URL, rate, queues, …). */
  env: NodeJS.ProcessEnv;
  deps: RuntimeDeps;
  model: SqsModel;
  queueUrl: string;
  /** Sees each batch's records and what the worker made of them. */
  settled?: (records: SQSRecord[], results: MessageResult[]) => void;
}

export function startWorkerInstances({
  count,
  rules = compileRules({ sources: {}, eventSources: {}, lookups: {}, rules: [] }),
  env,
  deps,
  model,
  queueUrl,
  settled,
}: WorkerInstancesOptions): SqsEventSource {
  const instances = Array.from({ length: count }, () => ({
    busy: false,
    worker: createWorkerRuntime(rules, env, deps).worker,
  }));
  return startSqsEventSource({
    model,
    queueUrl,
    maximumConcurrency: count,
    async invoke(event) {
      // The event source runs at most `count` batches at once: one of the instances is free.
      const instance = instances.find((candidate) => !candidate.busy)!;
      instance.busy = true;
      const results = await instance.worker
        .processBatch(event.Records, RetryBudget.until(Date.now() + 60_000))
        .finally(() => (instance.busy = false));
      settled?.(event.Records, results);
      return batchResponse(results);
    },
  });
}
