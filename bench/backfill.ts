/**
 * The backfill's two figures (docs/backfill.md):
 *
 *   enqueue   a 10,000-row CSV read, planned (scripts/backfill/plan.ts) and sent by the CLI's own
 *             path (scripts/backfill/run.ts: SendMessageBatch through the AWS SDK, a checkpoint
 *             beside the file) to the local SQS over loopback: rows and messages per second. A
 *             deployed queue adds its round trip per batch of 10.
 *   latency   a live event's latency (enqueued to applied) while nothing else runs, while a
 *             backfill drains from its own queue at half the rate (as deployed: the backfill
 *             function and the live worker sharing the rate, lib/queue/rate-share.ts), and, for
 *             comparison, with the same backlog in the live jobs queue itself. The worker runtimes
 *             as deployed (two live, two backfill instances), the HelpCrunch sandbox, the ledger on
 *             the local DynamoDB, the SQS model and Lambda's poller stand-in, as bench/queue-drain.ts.
 *             Time-scaled ×TIME_SCALE: HelpCrunch's 2 requests a second (120/min) run at 20, the
 *             live worker re-reads the backfill marker every 1.5 s instead of 15, and an SQS second
 *             lasts 100 ms; multiply the latencies by TIME_SCALE for real time (fixed costs, a few
 *             ms of loopback, are scaled too, so real figures are a little lower).
 *
 *   npm run bench:backfill        both, full size
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RetryBudget } from '../lib/http/retry';
import { createLedger, type Ledger } from '../lib/ledger';
import { unitsOf } from '../lib/pipeline/units';
import { enqueueUnits } from '../lib/queue/enqueue';
import { type BackfillTag, parseJobMessage } from '../lib/queue/job-message';
import { compileRules } from '../lib/rules/match';
import type { SecretCache } from '../lib/secrets';
import type { Unit } from '../lib/types';
import { readTableDefinitions } from '../local/host/serverless-config';
import { localDynamoDbClient, startDynamoDb } from '../local/sandbox/dynamodb';
import { type SandboxCustomer, startHelpCrunchSandbox } from '../local/sandbox/helpcrunch-sandbox';
import { startSqsEndpoint } from '../local/sandbox/sqs-endpoint';
import { SqsModel } from '../local/sandbox/sqs-model';
import type { Checkpoint } from '../scripts/backfill/checkpoint';
import { planBackfill } from '../scripts/backfill/plan';
import { readExport } from '../scripts/backfill/read';
import { resolveTarget, sendRows } from '../scripts/backfill/run';
import { loadRulesFile } from '../tooling/rules/load';
import { startWorkerInstances } from './worker-instances';
import { scaledHelpCrunchLimit } from './helpcrunch-limit';
import { quantile, round } from './stats';

const RULES_FILE = new URL('rules.bench.yml', import.meta.url).pathname;
/** Real seconds per benchmark second. */
export const TIME_SCALE = 10;
const LIMIT_PER_SECOND = 2 * TIME_SCALE;
const SHARE = 0.5;

export interface BackfillBenchOptions {
  /** Rows of the CSV whose enqueueing is timed. */
  enqueueRows: number;
  /** Backfill messages waiting when the live events start (one request each, by HelpCrunch id). */
  backlog: number;
  /** Live events per scenario, one every `liveIntervalMs`. */
  liveEvents: number;
  liveIntervalMs: number;
}

export interface LatencyFigures {
  p50: number;
  p95: number;
  max: number;
  n: number;
}

export interface BackfillBenchResult {
  enqueue: {
    rows: number;
    messages: number;
    planMs: number;
    sendMs: number;
    rowsPerSecond: number;
    messagesPerSecond: number;
  };
  latency: {
    timeScale: number;
    limitPerSecond: number;
    share: number;
    backlog: number;
    /** ms, in scaled time. */
    alone: LatencyFigures;
    duringBackfill: LatencyFigures;
    /** The backlog in the live jobs queue instead: what the backfill queue spares live events. */
    sharedQueue: LatencyFigures;
    /** Backfill requests per second while it drained beside the live events, and what its share allows. */
    backfillRate: { achieved: number; share: number };
  };
}

export const FULL_BACKFILL: BackfillBenchOptions = {
  enqueueRows: 10_000,
  backlog: 600,
  liveEvents: 20,
  liveIntervalMs: 750,
};
export const SMOKE_BACKFILL: BackfillBenchOptions = {
  enqueueRows: 100,
  backlog: 10,
  liveEvents: 2,
  liveIntervalMs: 100,
};

export async function measureBackfill(options: BackfillBenchOptions): Promise<BackfillBenchResult> {
  return { enqueue: await measureEnqueue(options.enqueueRows), latency: await measureLatency(options) };
}

async function measureEnqueue(rows: number): Promise<BackfillBenchResult['enqueue']> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-backfill-'));
  const sqs = await startSqsEndpoint({
    queues: [{ name: 'bench-backfill.fifo', fifo: true, visibilityTimeoutSeconds: 360 }],
  });
  try {
    const file = join(dir, 'lost-deals.csv');
    const lines = Array.from({ length: rows }, (_, i) => `${i},lost,c${i}@example.test`);
    writeFileSync(file, `deal_id,status,person.email\n${lines.join('\n')}\n`);
    const config = loadRulesFile(RULES_FILE);
    const planStart = performance.now();
    const plan = planBackfill(readExport(file), compileRules(config), config, {
      source: 'crm',
      occurredAt: Date.parse('2026-04-01T00:00:00Z'),
      fileTime: Date.now(),
      share: SHARE,
      ratePerMinute: 110,
      now: Date.now(),
    });
    const planMs = performance.now() - planStart;
    const target = await resolveTarget({ kind: 'queue-url', queueUrl: sqs.queueUrl('bench-backfill.fifo') });
    const checkpoint: Checkpoint = {
      version: 1,
      runId: 'bench-run',
      file,
      digest: plan.file.digest,
      rules: 'bench',
      lastRow: 0,
      sentUnits: 0,
      sentJobs: 0,
      complete: false,
      options: {
        source: 'crm',
        rulesFile: RULES_FILE,
        rateShare: SHARE,
        ratePerMinute: 110,
        dryRun: false,
        skipInvalid: false,
        target: { kind: 'queue-url', queueUrl: target.queueUrl },
      },
      startedAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    };
    const sendStart = performance.now();
    try {
      await sendRows(
        plan,
        checkpoint,
        target,
        { run: { id: 'bench-run', share: SHARE }, dryRun: false },
        {
          signal: new AbortController().signal,
          file,
        },
      );
    } finally {
      target.close();
    }
    const sendMs = performance.now() - sendStart;
    if (checkpoint.sentUnits !== plan.units) throw new Error(`sent ${checkpoint.sentUnits} of ${plan.units} messages`);
    return {
      rows,
      messages: checkpoint.sentUnits,
      planMs: Math.round(planMs),
      sendMs: Math.round(sendMs),
      rowsPerSecond: Math.round((rows / sendMs) * 1000),
      messagesPerSecond: Math.round((checkpoint.sentUnits / sendMs) * 1000),
    };
  } finally {
    await sqs.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const TAGS = ['Lead'];
const customer = (id: number): SandboxCustomer => ({
  id,
  email: null,
  userId: null,
  name: null,
  tags: TAGS.map((name) => ({ name, color: '#c377e0' })),
});
const job = (id: number) => ({
  rule: 'account-closed',
  customer: { by: 'helpcrunchId' as const, value: id },
  removeTags: TAGS,
  addTags: [],
});
const figures = (values: number[]): LatencyFigures => ({
  p50: Math.round(quantile(values, 0.5)),
  p95: Math.round(quantile(values, 0.95)),
  max: Math.round(Math.max(...values)),
  n: values.length,
});

async function measureLatency(options: BackfillBenchOptions): Promise<BackfillBenchResult['latency']> {
  const { backlog, liveEvents, liveIntervalMs } = options;
  const scenarios = ['alone', 'duringBackfill', 'sharedQueue'] as const;
  // Customer ids: live events from 1, backfill rows from 100,000, per scenario apart.
  const liveId = (scenario: number, i: number) => 1 + scenario * 1_000 + i;
  const backfillId = (scenario: number, i: number) => 100_000 + scenario * 100_000 + i;
  const customers = scenarios.flatMap((_, s) => [
    ...Array.from({ length: liveEvents }, (_, i) => customer(liveId(s, i))),
    ...Array.from({ length: backlog }, (_, i) => customer(backfillId(s, i))),
  ]);
  const table = readTableDefinitions().LedgerTable!;
  const dynamoDb = await startDynamoDb({ tables: [table] });
  const client = localDynamoDbClient(dynamoDb.url);
  const ledger: Ledger = createLedger({ tableName: table.TableName!, dedupDays: 7, client });
  const sandbox = await startHelpCrunchSandbox({
    customers,
    rateLimit: scaledHelpCrunchLimit(LIMIT_PER_SECOND),
    requestLogSize: 10,
  });
  const backfillRequests: number[] = [];
  sandbox.onRequest(({ at, path }) => {
    if (Number(/customers\/(\d+)\//.exec(path)?.[1]) >= 100_000) backfillRequests.push(at);
  });
  const model = new SqsModel({ msPerSecond: 1_000 / TIME_SCALE });
  const deadLetters = model.createQueue('bench-jobs-dlq.fifo', { fifo: true, visibilityTimeoutSeconds: 360 });
  const queue = (name: string) =>
    model.createQueue(name, {
      fifo: true,
      visibilityTimeoutSeconds: 360,
      redrive: { deadLetterQueueUrl: deadLetters, maxReceiveCount: 100 },
    });
  const liveQueue = queue('bench-jobs.fifo');
  const backfillQueue = queue('bench-backfill.fifo');
  const secrets: SecretCache = { get: async () => sandbox.apiKey, prefetch: () => undefined, clear: () => undefined };
  const doneAt = new Map<string, number>();
  // Two instances per function, as the event sources' maximumConcurrency: each its own runtime.
  const drain = (queueUrl: string, workerQueue: 'jobs' | 'backfill') =>
    startWorkerInstances({
      count: 2,
      env: {
        HELPCRUNCH_API_URL: sandbox.url,
        HELPCRUNCH_API_KEY_SECRET_ID: 'bench/helpcrunch-api-key',
        HELPCRUNCH_RATE_PER_MINUTE: String(LIMIT_PER_SECOND * 60),
        WORKER_CONCURRENCY: '2',
        WORKER_QUEUE: workerQueue,
        JOBS_QUEUE_URL: queueUrl,
        DEAD_LETTER_QUEUE_URL: deadLetters,
        RATE_SHARE_REFRESH_MS: String(15_000 / TIME_SCALE),
      },
      deps: { sqs: model, secrets, ledger },
      model,
      queueUrl,
      settled(records, results) {
        for (const [index, result] of results.entries()) {
          if (result.action === 'done') doneAt.set(parseJobMessage(records[index]!.body, 0).event.id, Date.now());
        }
      },
    });
  const sources = [drain(liveQueue, 'jobs'), drain(backfillQueue, 'backfill')];
  const budget = () => RetryBudget.until(Date.now() + 60_000);
  const units = (ids: number[], prefix: string): Unit[] =>
    ids.flatMap((id) => unitsOf({ source: 'bench', id: `${prefix}-${id}`, occurredAt: Date.now() }, [job(id)]));

  /** Live events one every liveIntervalMs; resolves each one's latency once all are applied. */
  async function liveLatencies(scenario: number): Promise<number[]> {
    const sentAt = new Map<string, number>();
    for (let i = 0; i < liveEvents; i++) {
      const [unit] = units([liveId(scenario, i)], 'live');
      sentAt.set(unit!.event.id, Date.now());
      await enqueueUnits([unit!], { sqs: model, queueUrl: liveQueue, budget: budget() });
      await new Promise((resolve) => setTimeout(resolve, liveIntervalMs));
    }
    for (;;) {
      if ([...sentAt.keys()].every((id) => doneAt.has(id))) return [...sentAt].map(([id, at]) => doneAt.get(id)! - at);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const backfill: BackfillTag = { run: { id: 'bench-latency', share: SHARE }, dryRun: false };
  const backlogIds = (scenario: number) => Array.from({ length: backlog }, (_, i) => backfillId(scenario, i));
  const idle = async () => {
    for (const source of sources) await source.whenIdle(600_000);
  };

  try {
    const alone = await liveLatencies(0);
    await idle();

    await enqueueUnits(units(backlogIds(1), 'backfill'), {
      sqs: model,
      queueUrl: backfillQueue,
      budget: budget(),
      backfill,
    });
    // The backfill waits one refresh of the live worker's marker before it sends (rate-share.ts).
    await new Promise((resolve) => setTimeout(resolve, 2 * (15_000 / TIME_SCALE)));
    const firstLive = Date.now();
    const during = await liveLatencies(1);
    const lastLive = Date.now();
    const drained = backfillRequests.filter((at) => at >= firstLive && at <= lastLive).length;
    await idle();

    await enqueueUnits(units(backlogIds(2), 'shared'), { sqs: model, queueUrl: liveQueue, budget: budget() });
    const shared = await liveLatencies(2);
    await idle();

    return {
      timeScale: TIME_SCALE,
      limitPerSecond: LIMIT_PER_SECOND,
      share: SHARE,
      backlog,
      alone: figures(alone),
      duringBackfill: figures(during),
      sharedQueue: figures(shared),
      backfillRate: { achieved: round((drained / (lastLive - firstLive)) * 1000), share: SHARE * LIMIT_PER_SECOND },
    };
  } finally {
    for (const source of sources) await source.stop();
    await sandbox.close();
    client.destroy();
    await dynamoDb.close();
  }
}

export function backfillReport({ enqueue, latency }: BackfillBenchResult): string[] {
  const line = (name: string, f: LatencyFigures) =>
    `  ${name.padEnd(40)} p50 ${String(f.p50).padStart(6)} ms   p95 ${String(f.p95).padStart(6)} ms   max ${String(f.max).padStart(6)} ms   (${f.n} events)`;
  return [
    `Enqueue: ${enqueue.rows.toLocaleString('en-US')} CSV rows planned in ${enqueue.planMs} ms, sent in ${enqueue.sendMs} ms to a local SQS over loopback: ` +
      `${enqueue.rowsPerSecond.toLocaleString('en-US')} rows/s, ${enqueue.messagesPerSecond.toLocaleString('en-US')} messages/s (SendMessageBatch of 10, one at a time)`,
    `Live-event latency, enqueued to applied, time-scaled ×${latency.timeScale} (HelpCrunch's 2 requests/s at ${latency.limitPerSecond}/s; ` +
      `multiply by ${latency.timeScale} for real time), backlog ${latency.backlog} messages:`,
    line('no backfill', latency.alone),
    line(`a backfill draining at ${latency.share} of the rate`, latency.duringBackfill),
    line('the same backlog in the live jobs queue', latency.sharedQueue),
    `  The backfill drained at ${latency.backfillRate.achieved} requests/s meanwhile (its share: ${latency.backfillRate.share}/s).`,
  ];
}

async function main(): Promise<void> {
  const smoke = process.argv.includes('--smoke');
  const result = await measureBackfill(smoke ? SMOKE_BACKFILL : FULL_BACKFILL);
  console.log(backfillReport(result).join('\n'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
