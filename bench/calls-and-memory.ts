/**
 * Part 5, calls and memory. In process, one fresh container: HelpCrunch requests per event naming
 * the customer by id and by email, and Secrets Manager calls over its first invocations. In a
 * separate Node process (a container of its own, Lambda's Node where available): peak RSS over
 * many warm events, sampled after a full GC to tell growth from garbage.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProbe } from './bundles';
import { startContainer, useEnvironment, type Bundle, type Handler } from './containers';
import { lambdaContext, signedWebhookEvent } from './events';
import { SIGNING_SECRET, startLocalServices, type LocalServices } from './local-services';
import type { MemoryProbeReport, MemorySample } from './memory-probe';
import { lambdaNodeFlags, type NodeRuntime } from './node-runtime';
import { withQuietOutput } from './quiet-output';
import { countsBetween, countsPer, pairedRatios, round, spread, type Spread } from './stats';

export interface CallsAndMemoryOptions {
  /** Invocations of one container for the by-id and Secrets Manager counts. */
  invocations: number;
  emailEvents: number;
  memoryEvents: number;
  memorySampleEvery: number;
  /** Fresh processes per subject for the memory figures. */
  memoryRuns: number;
  timeoutMs: number;
  workDir: string;
}

export interface CallsResult {
  invocations: number;
  /** HelpCrunch requests per event: by id (one DELETE), by email (search, then DELETE). */
  helpcrunchCallsPerEvent: { byId: number; byEmail: number };
  /** Requests beyond those the events need (a DELETE by id; a search and a DELETE by email): retries. */
  retries: number;
  /** The ledger's DynamoDB requests per event by operation (e.g. PutItem, UpdateItem), by id and by email. */
  ledgerRequestsPerEvent: { byId: Record<string, number>; byEmail: Record<string, number> };
  secretsManager: { ttlSeconds: number; callsBySecret: Record<string, number> };
}

export interface MemoryFigures {
  /**
   * Over fresh processes: V8 optimises hot code on background threads, and where that work lands
   * in time moves a process's peak by several MiB from one run to the next.
   */
  peakRssMiB: Spread;
  /** The samples of the run with the median peak. */
  samples: MemorySample[];
  /**
   * From the first sample after warm-up to the last, after a full GC so garbage does not count;
   * the largest over the runs.
   */
  rssGrowthMiB: number;
  heapGrowthMiB: number;
  builtinsLoadedByEvents: string[];
}

export interface MemoryResult extends MemoryFigures {
  node: string;
  /** How the handler's process was started: Lambda's bootstrap flags and the function's NODE_OPTIONS. */
  nodeArgs: string[];
  nodeOptions: string | null;
  events: number;
  /** Per round: the handler's peak ÷ the reference's, and ÷ the reference's under the function's NODE_OPTIONS. */
  ratio: Spread;
  ratioUnderFunctionFlags: Spread;
  /**
   * Through the same probe: the reference as a naive deployment runs it (no NODE_OPTIONS, so
   * Lambda's bootstrap sizes the heap), the same under this function's NODE_OPTIONS (what the
   * code alone makes of the difference), and plain axios making only the untag call.
   */
  reference: MemoryFigures & { nodeArgs: string[] };
  referenceUnderFunctionFlags: MemoryFigures;
  bareAxios: MemoryFigures;
}

/** How Lambda would run the function: its memory size and its NODE_OPTIONS. */
export interface LambdaSettings {
  memoryMiB: number;
  nodeOptions?: string;
}

const ID_CUSTOMERS = [1001, 1002, 1003, 1004, 1005, 1006];
/** A demo customer with both tags the email rule removes, so each email event really untags. */
const EMAIL_CUSTOMER = 'ada@example.com';

async function invoke(handler: Handler, payload: Record<string, unknown>, timeoutMs: number): Promise<void> {
  const response = (await handler(
    signedWebhookEvent(payload, SIGNING_SECRET),
    lambdaContext('webhook', timeoutMs),
  )) as {
    statusCode: number;
    body: string;
  };
  if (response.statusCode !== 200) throw new Error(`webhook answered ${response.statusCode}: ${response.body}`);
}

export async function measureCalls(bundle: Bundle, options: CallsAndMemoryOptions): Promise<CallsResult> {
  const services = await startLocalServices();
  const { sandbox, secrets } = services;
  try {
    useEnvironment(services.env);
    const handler = await startContainer(bundle, join(options.workDir, 'calls-container'));
    let requests = 0;
    sandbox.onRequest(() => requests++);

    const { value } = await withQuietOutput(async () => {
      const atStart = services.dynamoDb.requests();
      for (let i = 0; i < options.invocations; i++) {
        await invoke(
          handler,
          { status: 'closed', helpcrunchId: ID_CUSTOMERS[i % ID_CUSTOMERS.length] },
          options.timeoutMs,
        );
      }
      const byIdRequests = requests;
      const callsBySecret = secrets.calls().bySecret;
      const afterById = services.dynamoDb.requests();
      requests = 0;
      for (let i = 0; i < options.emailEvents; i++) {
        sandbox.reset(); // the customer's tags back, so the search finds them and the DELETE follows
        await invoke(handler, { status: 'lost', person: { email: EMAIL_CUSTOMER } }, options.timeoutMs);
      }
      return {
        byIdRequests,
        byEmailRequests: requests,
        callsBySecret,
        ledgerById: countsBetween(atStart, afterById),
        ledgerByEmail: countsBetween(afterById, services.dynamoDb.requests()),
      };
    });
    return {
      invocations: options.invocations,
      helpcrunchCallsPerEvent: {
        byId: round(value.byIdRequests / options.invocations, 3),
        byEmail: round(value.byEmailRequests / options.emailEvents, 3),
      },
      retries: value.byIdRequests - options.invocations + value.byEmailRequests - 2 * options.emailEvents,
      ledgerRequestsPerEvent: {
        byId: countsPer(value.ledgerById, options.invocations),
        byEmail: countsPer(value.ledgerByEmail, options.emailEvents),
      },
      secretsManager: { ttlSeconds: Number(services.env.SECRET_CACHE_TTL_SECONDS), callsBySecret: value.callsBySecret },
    };
  } finally {
    await services.close();
  }
}

/** Runs the probe; the handler's logs go to /dev/null, as fast as Lambda's log pipe takes them. */
async function runProbe(node: NodeRuntime, args: string[], env: Record<string, string>): Promise<void> {
  const child = spawn(node.path, args, {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve, reject) =>
    child.once('error', reject).once('close', resolve),
  );
  if (code !== 0) throw new Error(`memory probe exited with ${code}: ${stderr.slice(-2000)}`);
}

function growth(report: MemoryProbeReport): { rssMiB: number; heapMiB: number } {
  const { samples } = report;
  // The first sample is still warming up (JIT, connection pools); growth is measured after it.
  const first = samples[Math.min(1, samples.length - 1)]!;
  const last = samples[samples.length - 1]!;
  return { rssMiB: last.rssMiB - first.rssMiB, heapMiB: last.heapUsedMiB - first.heapUsedMiB };
}

function figures(reports: MemoryProbeReport[]): MemoryFigures {
  const peaks = reports.map((report) => report.peakRssMiB);
  const median = [...reports].sort((a, b) => a.peakRssMiB - b.peakRssMiB)[Math.floor((reports.length - 1) / 2)]!;
  const growths = reports.map(growth);
  const rounded = (sample: MemorySample) =>
    Object.fromEntries(
      Object.entries(sample).map(([key, value]) => [key, key === 'events' ? value : round(value, 2)]),
    ) as unknown as MemorySample;
  const { median: peakMedian, min, max, n } = spread(peaks);
  return {
    peakRssMiB: { median: round(peakMedian, 1), min: round(min, 1), max: round(max, 1), n },
    samples: median.samples.map(rounded),
    rssGrowthMiB: round(Math.max(...growths.map((g) => g.rssMiB)), 1),
    heapGrowthMiB: round(Math.max(...growths.map((g) => g.heapMiB)), 2),
    builtinsLoadedByEvents: median.builtinsLoadedByEvents,
  };
}

type MemorySubject = 'handler' | 'reference' | 'referenceUnderFunctionFlags' | 'bareAxios';

/** Our webhook handler, the reference and plain axios, each in a process of its own started as Lambda starts it. */
export async function measureMemory(
  bundles: { handler: string; reference: string; bareAxios: string },
  node: NodeRuntime,
  lambda: LambdaSettings,
  options: CallsAndMemoryOptions,
): Promise<MemoryResult> {
  const services: LocalServices = await startLocalServices();
  try {
    const probe = await buildProbe('bench/memory-probe.ts', options.workDir);
    const subjects: { name: MemorySubject; entryFile: string; nodeOptions?: string }[] = [
      { name: 'handler', entryFile: bundles.handler, nodeOptions: lambda.nodeOptions },
      { name: 'reference', entryFile: bundles.reference },
      { name: 'referenceUnderFunctionFlags', entryFile: bundles.reference, nodeOptions: lambda.nodeOptions },
      { name: 'bareAxios', entryFile: bundles.bareAxios, nodeOptions: lambda.nodeOptions },
    ];
    const nodeArgs = (nodeOptions?: string) => lambdaNodeFlags(lambda.memoryMiB, nodeOptions);
    const reports: Record<MemorySubject, MemoryProbeReport[]> = {
      handler: [],
      reference: [],
      referenceUnderFunctionFlags: [],
      bareAxios: [],
    };
    // Round by round, so whatever else the machine does weighs on them alike.
    for (let run = 0; run < options.memoryRuns; run++) {
      for (const { name, entryFile, nodeOptions } of subjects) {
        const outFile = join(options.workDir, `memory-${name}-${run}.json`);
        const args = [
          probe,
          entryFile,
          String(options.memoryEvents),
          String(options.memorySampleEvery),
          SIGNING_SECRET,
          outFile,
        ];
        await runProbe(node, [...nodeArgs(nodeOptions), ...args], {
          ...services.env,
          ...(nodeOptions && { NODE_OPTIONS: nodeOptions }),
        });
        reports[name].push(JSON.parse(readFileSync(outFile, 'utf8')) as MemoryProbeReport);
      }
    }
    const peaks = (name: MemorySubject) => reports[name].map((report) => report.peakRssMiB);
    return {
      node: node.version,
      nodeArgs: nodeArgs(lambda.nodeOptions),
      nodeOptions: lambda.nodeOptions ?? null,
      events: options.memoryEvents,
      ...figures(reports.handler),
      ratio: spread(pairedRatios(peaks('handler'), peaks('reference'))),
      ratioUnderFunctionFlags: spread(pairedRatios(peaks('handler'), peaks('referenceUnderFunctionFlags'))),
      reference: { ...figures(reports.reference), nodeArgs: nodeArgs() },
      referenceUnderFunctionFlags: figures(reports.referenceUnderFunctionFlags),
      bareAxios: figures(reports.bareAxios),
    };
  } finally {
    await services.close();
  }
}
