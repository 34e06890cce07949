/**
 * Drains a backlog of jobs through the real queue path — enqueueUnits, then the worker runtime
 * (paced single-attempt client, the ledger, visibility backoff, dead-lettering) — against the
 * HelpCrunch sandbox, with the SQS model (local/sandbox/sqs-model.ts) standing in for the FIFO jobs
 * queue, the local event source (local/host/sqs-event-source.ts) for Lambda's poller, and the local
 * DynamoDB (dynalite) for the ledger, optionally behind TLS and a round trip (`ledgerFront`).
 * Time-scaled: the sandbox's limit is HelpCrunch's, 120 requests in any minute, sped up to allow
 * `limitPerSecond` (scaledHelpCrunchLimit), and the worker's rate is set to match.
 *
 *   npm run bench:queue            1,000 jobs at 20 requests/s, no faults, the ledger over TLS 8 ms away
 *
 * The zero-loss simulation in tests/queue-simulation.test.ts runs the same harness with faults.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Agent } from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createLedger } from '../lib/ledger';
import { unitsOf } from '../lib/pipeline/units';
import { enqueueUnits } from '../lib/queue/enqueue';
import { parseJobMessage } from '../lib/queue/job-message';
import { deadLetterReason } from '../lib/queue/dead-letter';
import type { MessageResult } from '../lib/queue/worker';
import { RetryBudget } from '../lib/http/retry';
import {
  startHelpCrunchSandbox,
  type Faults,
  type RateLimit,
  type SandboxCustomer,
} from '../local/sandbox/helpcrunch-sandbox';
import { startWorkerInstances } from './worker-instances';
import { limitText, scaledHelpCrunchLimit } from './helpcrunch-limit';
import type { SecretCache } from '../lib/secrets';
import type { Job, Unit } from '../lib/types';
import { readTableDefinitions } from '../local/host/serverless-config';
import { localDynamoDbClient, startDynamoDb } from '../local/sandbox/dynamodb';
import { createCertificates, type BenchCertificates } from './certificates';
import { DEFAULT_ROUND_TRIPS } from './cold-request-network';
import { startNetworkFront } from './network-front';
import { countsBetween } from './stats';
import { SqsModel } from '../local/sandbox/sqs-model';

export interface QueueDrainOptions {
  jobs: number;
  /** Requests per second the sandbox allows on average. */
  limitPerSecond: number;
  /** The sandbox's window; default scaledHelpCrunchLimit(limitPerSecond).windowMs. */
  windowMs?: number;
  faults?: Partial<Faults>;
  /** The worker's rate as a share of the limit; default 1 (matched). */
  rateShare?: number;
  /** Extra messages with unreadable bodies, sent straight to the queue. */
  malformed?: number;
  /** Model milliseconds per SQS second (backoffs, visibility timeouts); default 10. */
  msPerSecond?: number;
  /** Give up draining after this long; what is left counts as lost. Default 10 min. */
  timeoutMs?: number;
  /** Worker instances draining at once, each at its share of the rate; default 2 (serverless.yml's workerConcurrency). */
  workers?: number;
  /** The ledger reached over TLS with this round trip (the bench's 8 ms), instead of plain loopback. */
  ledgerFront?: { roundTripMs: number; certificates: BenchCertificates };
}

export interface QueueDrainResult {
  jobs: number;
  durationMs: number;
  /** Worker requests per second, as configured. */
  configuredRate: number;
  /** Sandbox requests per second from the first request to the last. */
  achievedRate: number;
  rateRatio: number;
  requests: number;
  share429: number;
  /** Jobs neither done nor in the dead-letter queue at the end (each job names its own customer). */
  lost: number;
  /** Final state per job: untagged, skipped:<reason>, dead-letter:<reason>; malformed messages included. */
  outcomes: Record<string, number>;
  /** Most sandbox requests within any one window, and the limit it had to stay under. */
  maxPerWindow: number;
  limitPerWindow: number;
  /** Dead-lettered messages that carry no reason attribute (SQS's own redrive). */
  deadLetteredWithoutReason: number;
  /** Jobs reported untagged whose customer still carries one of the tags in the sandbox: must be 0. */
  untaggedButStillTagged: number;
  /** What the worker asked of the ledger's DynamoDB, by operation (e.g. PutItem, UpdateItem), over the whole drain. */
  ledgerRequests: Record<string, number>;
}

const TAGS = ['Lead', 'Trial user'];
const MAX_RECEIVE_COUNT = 8;

/**
 * One customer per job. Every 10th job finds its customer by email (a search, then a delete),
 * every 50th names a customer that does not exist, and every 50th (offset) one whose tags are
 * already gone, so skips are exercised alongside untags.
 */
function scenario(count: number): { customers: SandboxCustomer[]; jobs: Job[] } {
  const customers: SandboxCustomer[] = [];
  const jobs: Job[] = [];
  for (let i = 0; i < count; i++) {
    const id = 100_000 + i;
    const tagged = i % 50 !== 13;
    customers.push({
      id,
      email: `c${i}@example.test`,
      userId: `u-${i}`,
      name: `Customer ${i}`,
      tags: tagged ? TAGS.map((name) => ({ name, color: '#4caf50' })) : [],
    });
    const customer =
      i % 50 === 7
        ? { by: 'helpcrunchId' as const, value: 900_000 + i }
        : i % 10 === 0 || !tagged
          ? { by: 'email' as const, value: `c${i}@example.test` }
          : { by: 'helpcrunchId' as const, value: id };
    jobs.push({ rule: 'deal-lost', customer, removeTags: TAGS, addTags: [] });
  }
  return { customers, jobs };
}

export async function runQueueDrain(options: QueueDrainOptions): Promise<QueueDrainResult> {
  const {
    jobs: jobCount,
    limitPerSecond,
    rateShare = 1,
    malformed = 0,
    msPerSecond = 10,
    timeoutMs = 600_000,
    workers = 2,
    windowMs = scaledHelpCrunchLimit(limitPerSecond).windowMs,
  } = options;
  const rateLimit: RateLimit = { requests: Math.round((limitPerSecond * windowMs) / 1000), windowMs };
  const { customers, jobs } = scenario(jobCount);
  const ledgerTable = readTableDefinitions().LedgerTable!;
  const dynamoDb = await startDynamoDb({ tables: [ledgerTable] });
  // The table's creation is the harness's, not the worker's.
  const before = dynamoDb.requests();
  const front =
    options.ledgerFront &&
    (await startNetworkFront({ target: dynamoDb.url, ...options.ledgerFront }).catch(async (error: unknown) => {
      await dynamoDb.close();
      throw error;
    }));
  const ledgerClient = front
    ? new DynamoDBClient({
        endpoint: front.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        requestHandler: {
          httpsAgent: new Agent({ keepAlive: true, ca: readFileSync(options.ledgerFront!.certificates.caFile) }),
        },
      })
    : localDynamoDbClient(dynamoDb.url);
  const ledger = createLedger({ tableName: ledgerTable.TableName!, dedupDays: 7, client: ledgerClient });
  const sandbox = await startHelpCrunchSandbox({
    customers,
    rateLimit,
    faults: options.faults,
  });
  let firstAt: number | undefined;
  let lastAt = 0;
  sandbox.onRequest(({ at }) => {
    firstAt ??= at;
    lastAt = at;
  });
  try {
    const model = new SqsModel({ msPerSecond });
    const deadLetterQueueUrl = model.createQueue('bench-jobs-dlq.fifo', { fifo: true, visibilityTimeoutSeconds: 30 });
    const queueUrl = model.createQueue('bench-jobs.fifo', {
      fifo: true,
      visibilityTimeoutSeconds: 360,
      redrive: { deadLetterQueueUrl, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    const configuredRate = limitPerSecond * rateShare;
    const secrets: SecretCache = { get: async () => sandbox.apiKey, prefetch: () => undefined, clear: () => undefined };
    const startedAt = performance.now();
    // The backlog as one burst of events, a job each; each names its own customer, which is how it is traced below.
    const units: Unit[] = jobs.flatMap((job, i) =>
      unitsOf({ source: 'bench', id: `bench-${i}`, occurredAt: Date.now() }, [job]),
    );
    await enqueueUnits(units, { sqs: model, queueUrl, budget: RetryBudget.until(Date.now() + 60_000) });
    for (let i = 0; i < malformed; i++) {
      const body = `{"v":1,"broken":${i}`;
      await model.sendMessage({
        QueueUrl: queueUrl,
        MessageBody: body,
        MessageGroupId: body,
        MessageDeduplicationId: body,
      });
    }

    const done = new Map<string, string>();
    // One runtime per worker instance, as Lambda runs them: each paces itself at its share of the rate.
    const source = startWorkerInstances({
      count: workers,
      env: {
        HELPCRUNCH_API_URL: sandbox.url,
        HELPCRUNCH_API_KEY_SECRET_ID: 'bench/helpcrunch-api-key',
        HELPCRUNCH_RATE_PER_MINUTE: String(Math.round(configuredRate * 60)),
        WORKER_CONCURRENCY: String(workers),
        JOBS_QUEUE_URL: queueUrl,
        DEAD_LETTER_QUEUE_URL: deadLetterQueueUrl,
        MAX_RECEIVE_COUNT: String(MAX_RECEIVE_COUNT),
      },
      deps: { sqs: model, secrets, ledger },
      model,
      queueUrl,
      settled(records, results) {
        for (const [index, result] of results.entries()) {
          if (result.action !== 'done') continue;
          const key = jobKey(records[index]!.body)!;
          // A second delivery of an applied job (at-least-once) is a duplicate: the job's state stays what it did.
          const state = finalState(result);
          if (!(done.has(key) && state === 'skipped:duplicate_event')) done.set(key, state);
        }
      },
    });
    await source.whenIdle(timeoutMs);
    await source.stop();
    const durationMs = performance.now() - startedAt;

    const outcomes: Record<string, number> = {};
    const count = (state: string) => (outcomes[state] = (outcomes[state] ?? 0) + 1);
    const settled = new Set<string>();
    let deadLetteredWithoutReason = 0;
    for (const message of model.messages(deadLetterQueueUrl)) {
      const reason = deadLetterReason(message.attributes);
      if (!reason) deadLetteredWithoutReason++;
      count(`dead-letter:${reason?.code ?? 'none'}`);
      const key = jobKey(message.body);
      if (key) settled.add(key);
    }
    const byKey = new Map<string, SandboxCustomer>(
      sandbox.customers().flatMap((c) => [
        [`id:${c.id}`, c],
        [`email:${c.email}`, c],
      ]),
    );
    let untaggedButStillTagged = 0;
    for (const [key, state] of done) {
      count(state);
      settled.add(key);
      const stillTagged = byKey.get(key)?.tags.some((tag) => TAGS.includes(tag.name));
      if (state === 'untagged' && stillTagged) untaggedButStillTagged++;
    }
    const lost = jobs.filter((job) => !settled.has(customerKey(job))).length;

    const { total, byStatus, maxPerWindow } = sandbox.stats();
    const spanSeconds = firstAt === undefined ? 0 : (lastAt - firstAt) / 1000;
    const achievedRate = spanSeconds > 0 ? (total - 1) / spanSeconds : 0;
    return {
      jobs: jobCount,
      durationMs: Math.round(durationMs),
      configuredRate,
      achievedRate: round(achievedRate),
      rateRatio: round(achievedRate / configuredRate),
      requests: total,
      share429: round(total > 0 ? (byStatus[429] ?? 0) / total : 0, 4),
      lost,
      outcomes,
      maxPerWindow,
      limitPerWindow: rateLimit.requests,
      deadLetteredWithoutReason,
      untaggedButStillTagged,
      ledgerRequests: countsBetween(before, dynamoDb.requests()),
    };
  } finally {
    await sandbox.close();
    ledgerClient.destroy();
    await front?.close();
    await dynamoDb.close();
  }
}

function finalState(result: MessageResult): string {
  const skipped = result.outcomes.find((outcome) => outcome.status === 'skipped');
  return result.outcomes.every((outcome) => outcome.status === 'untagged') ? 'untagged' : `skipped:${skipped?.reason}`;
}

const customerKey = ({ customer }: Pick<Job, 'customer'>) => `${customer.by}:${customer.value}`;

/** The job's key for a message body, or undefined when the body is unreadable. */
function jobKey(body: string): string | undefined {
  try {
    return customerKey(parseJobMessage(body, 0));
  } catch {
    return undefined;
  }
}

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

async function main(): Promise<void> {
  const certificatesDir = mkdtempSync(join(tmpdir(), 'helpcrunch-queue-drain-ca-'));
  const ledgerFront = { roundTripMs: DEFAULT_ROUND_TRIPS.dynamodb, certificates: createCertificates(certificatesDir) };
  const options = { jobs: 1000, limitPerSecond: 20, ledgerFront };
  console.log(
    `Draining ${options.jobs} jobs against a sandbox limited to ${options.limitPerSecond} requests/s ` +
      `(${limitText(scaledHelpCrunchLimit(options.limitPerSecond))}, worker rate matched), ` +
      `the ledger over TLS ${ledgerFront.roundTripMs} ms away…`,
  );
  const result = await runQueueDrain(options).finally(() => rmSync(certificatesDir, { recursive: true, force: true }));
  console.log(
    [
      `jobs            ${result.jobs}`,
      `duration        ${(result.durationMs / 1000).toFixed(1)} s`,
      `configured rate ${result.configuredRate} req/s`,
      `achieved rate   ${result.achievedRate} req/s (${(result.rateRatio * 100).toFixed(1)}% of configured)`,
      `requests        ${result.requests}, 429s ${(result.share429 * 100).toFixed(2)}%`,
      `max per window  ${result.maxPerWindow} (limit ${result.limitPerWindow})`,
      `lost            ${result.lost}`,
      `outcomes        ${Object.entries(result.outcomes)
        .map(([state, n]) => `${state} ${n}`)
        .join(', ')}`,
      `ledger          ${Object.entries(result.ledgerRequests)
        .map(([operation, n]) => `${operation} ${(n / result.jobs).toFixed(2)}`)
        .join(', ')} per job`,
    ].join('\n'),
  );
  const ok = result.rateRatio >= 0.95 && result.share429 <= 0.01 && result.lost === 0;
  console.log(ok ? 'PASS: >= 95% of the rate, <= 1% 429s, nothing lost' : 'FAIL: below the target');
  if (!ok) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
