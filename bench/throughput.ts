/**
 * Part 4, rate-limit throughput: HelpCrunch's limit time-scaled (bench/helpcrunch-limit.ts) and a burst of
 * events, each for a customer of its own, (a) inline, spread over concurrent containers that each
 * take one event at a time as Lambda does, and (b) through the queue (bench/queue-drain.ts:
 * enqueue, then two paced worker instances, the ledger over TLS with DynamoDB's round trip).
 * Each run is repeated; figures are medians with their range.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { HelpCrunchSandbox, SandboxCustomer } from '../local/sandbox/helpcrunch-sandbox';
import { createCertificates } from './certificates';
import { startContainer, useEnvironment, type Bundle, type Handler } from './containers';
import { lambdaContext, signedWebhookEvent } from './events';
import { SIGNING_SECRET, startLocalServices } from './local-services';
import { scaledHelpCrunchLimit } from './helpcrunch-limit';
import { runQueueDrain } from './queue-drain';
import { withQuietOutput } from './quiet-output';
import { countsPer, round, spread, type Spread } from './stats';

export interface ThroughputOptions {
  events: number;
  limitPerSecond: number;
  containers: number;
  runs: number;
  timeoutMs: number;
  workDir: string;
  /** The queue worker reaches the ledger over TLS with this round trip. */
  ledgerRoundTripMs: number;
}

/** One burst, as either mode reports it. */
export interface BurstRun {
  durationMs: number;
  /** Successful HelpCrunch calls per second (first to last request) ÷ the limit. */
  rateRatio: number;
  requests: number;
  share429: number;
  lost: number;
  /** Inline only: events answered 503, i.e. handed back to the sender to retry. */
  handedBack?: number;
}

export interface BurstFigures {
  runs: BurstRun[];
  rateRatio: Spread;
  share429: Spread;
  durationMs: Spread;
  /** The most lost in any run. */
  lost: number;
  handedBack?: Spread;
}

export interface QueueFigures extends BurstFigures {
  /** The worker's DynamoDB round trip, and its ledger requests per job by operation over all runs. */
  ledger: { roundTripMs: number; requestsPerJob: Record<string, number> };
}

export interface ThroughputResult {
  events: number;
  limitPerSecond: number;
  inline: BurstFigures & { containers: number };
  queue: QueueFigures;
}

/**
 * A customer of its own per event, named by id: a few customers shared by concurrent containers
 * would measure them waiting for each other's lease on the customer (lib/ledger/customers.ts).
 */
function burstCustomers(events: number): SandboxCustomer[] {
  return Array.from({ length: events }, (_, index) => ({
    id: 200_000 + index,
    email: `burst${index}@example.test`,
    userId: `burst-${index}`,
    name: `Burst customer ${index}`,
    tags: ['VIP', 'Lead'].map((name) => ({ name, color: '#4caf50' })),
  }));
}

function summarise(runs: BurstRun[]): BurstFigures {
  const handedBack = runs.map((run) => run.handedBack).filter((value): value is number => value !== undefined);
  return {
    runs,
    rateRatio: spread(runs.map((run) => run.rateRatio)),
    share429: spread(runs.map((run) => run.share429)),
    durationMs: spread(runs.map((run) => run.durationMs)),
    lost: Math.max(...runs.map((run) => run.lost)),
    ...(handedBack.length > 0 && { handedBack: spread(handedBack) }),
  };
}

async function inlineBurst(
  containers: Handler[],
  options: ThroughputOptions,
  sandbox: HelpCrunchSandbox,
  customers: SandboxCustomer[],
): Promise<BurstRun> {
  sandbox.reset();
  const successAt: number[] = [];
  const unsubscribe = sandbox.onRequest(({ status, at }) => {
    if (status >= 200 && status < 300) successAt.push(at);
  });
  let next = 0;
  const answered = { ok: 0, handedBack: 0, lost: 0 };
  const started = performance.now();
  // Every container takes the next event as soon as it has answered the last, like Lambda's.
  const container = async (handler: Handler) => {
    while (next < options.events) {
      const index = next++;
      const payload = { status: 'closed', helpcrunchId: customers[index]!.id };
      const response = (await handler(
        signedWebhookEvent(payload, SIGNING_SECRET),
        lambdaContext('webhook', options.timeoutMs),
      )) as {
        statusCode: number;
      };
      if (response.statusCode === 200) answered.ok++;
      else if (response.statusCode === 503) answered.handedBack++;
      else answered.lost++;
    }
  };
  await Promise.all(containers.map(container));
  const durationMs = performance.now() - started;
  unsubscribe();
  const { total, byStatus } = sandbox.stats();
  const spanSeconds = successAt.length > 1 ? (successAt[successAt.length - 1]! - successAt[0]!) / 1000 : 0;
  const successRate = spanSeconds > 0 ? (successAt.length - 1) / spanSeconds : 0;
  return {
    durationMs: Math.round(durationMs),
    rateRatio: round(successRate / options.limitPerSecond, 3),
    requests: total,
    share429: round(total > 0 ? (byStatus[429] ?? 0) / total : 0, 4),
    lost: answered.lost,
    handedBack: answered.handedBack,
  };
}

export async function measureInline(
  bundle: Bundle,
  options: ThroughputOptions,
): Promise<BurstFigures & { containers: number }> {
  const customers = burstCustomers(options.events);
  const services = await startLocalServices({
    rateLimit: scaledHelpCrunchLimit(options.limitPerSecond),
    customers,
  });
  try {
    useEnvironment(services.env);
    const containers = await Promise.all(
      Array.from({ length: options.containers }, (_, index) =>
        startContainer(bundle, join(options.workDir, `inline-container-${index}`)),
      ),
    );
    const { value: runs } = await withQuietOutput(async () => {
      const results: BurstRun[] = [];
      for (let run = 0; run < options.runs; run++)
        results.push(await inlineBurst(containers, options, services.sandbox, customers));
      return results;
    });
    return { containers: options.containers, ...summarise(runs) };
  } finally {
    await services.close();
  }
}

/** Queue mode through bench/queue-drain.ts, the ledger over TLS with DynamoDB's round trip. */
export async function measureQueue(options: ThroughputOptions): Promise<QueueFigures> {
  const certificatesDir = join(options.workDir, 'ledger-ca');
  mkdirSync(certificatesDir, { recursive: true });
  const ledgerFront = { roundTripMs: options.ledgerRoundTripMs, certificates: createCertificates(certificatesDir) };
  const runs: BurstRun[] = [];
  const ledgerRequests: Record<string, number> = {};
  for (let run = 0; run < options.runs; run++) {
    const { value: result } = await withQuietOutput(() =>
      runQueueDrain({ jobs: options.events, limitPerSecond: options.limitPerSecond, ledgerFront }),
    );
    // achievedRate counts every request; without injected faults the ones not answered 429 succeeded.
    const successRate = result.achievedRate * (1 - result.share429);
    runs.push({
      durationMs: Math.round(result.durationMs),
      rateRatio: round(successRate / options.limitPerSecond, 3),
      requests: result.requests,
      share429: result.share429,
      lost: result.lost,
    });
    for (const [operation, n] of Object.entries(result.ledgerRequests))
      ledgerRequests[operation] = (ledgerRequests[operation] ?? 0) + n;
  }
  return {
    ...summarise(runs),
    ledger: {
      roundTripMs: options.ledgerRoundTripMs,
      requestsPerJob: countsPer(ledgerRequests, options.events * options.runs),
    },
  };
}
