/**
 * `npm run bench`: cold start, the cold request over loopback and over TLS with realistic round
 * trips, warm per-event overhead, rate-limit throughput, calls and memory, each against a
 * reference run side by side, and the backfill's enqueue rate and live-event latency. Prints a
 * table and writes bench/results.json.
 *
 *   npm run bench                         the full run (several minutes on 2 cores)
 *   npm run bench:smoke                   one tiny iteration of every part (what the test runs),
 *                                         results to the temp directory
 *   tsx bench/run.ts [--smoke] [--out results.json]
 *                    [--rtt-secrets-manager 20] [--rtt-helpcrunch 60] [--rtt-sqs 15]
 *                                         round trips (ms) of the cold request's TLS network
 *
 * The full run packages with `serverless package` and runs on Lambda's Node major (the project's
 * node@24, which npm run puts first on the PATH); the smoke run builds with esbuild.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { declaredFunctions, packageFunctions, projectCopy, type LambdaFunction } from './artifacts';
import { buildLambdaBundle, buildReferenceBundle, projectRoot, type BuiltBundle } from './bundles';
import { measureCalls, measureMemory, type CallsAndMemoryOptions } from './calls-and-memory';
import { measureColdRequests, type ColdRequestSubject } from './cold-request';
import type { RoundTrips } from './cold-request-network';
import { measureColdStart, type ColdStartSubject } from './cold-start';
import type { Bundle } from './containers';
import { estimateCost } from './cost';
import { benchNode } from './node-runtime';
import { checkTargets, formatReport, type BenchResults } from './report';
import { measureInline, measureQueue, type ThroughputOptions } from './throughput';
import { measureWarmOverhead, type WarmOverheadOptions } from './warm-overhead';
import { type BackfillBenchOptions, FULL_BACKFILL, measureBackfill, SMOKE_BACKFILL } from './backfill';

interface Settings {
  initRuns: number;
  coldRequestRuns: number;
  warm: Omit<WarmOverheadOptions, 'workDir' | 'timeoutMs'>;
  throughput: Omit<ThroughputOptions, 'workDir' | 'timeoutMs'>;
  calls: Omit<CallsAndMemoryOptions, 'workDir' | 'timeoutMs'>;
  backfill: BackfillBenchOptions;
}

const FULL: Settings = {
  initRuns: 15,
  coldRequestRuns: 15,
  warm: { rounds: 5, eventsPerRound: 500, warmupEvents: 200 },
  throughput: { events: 1000, limitPerSecond: 20, containers: 10, runs: 3 },
  calls: { invocations: 1000, emailEvents: 100, memoryEvents: 10_000, memorySampleEvery: 1000, memoryRuns: 3 },
  backfill: FULL_BACKFILL,
};

const SMOKE: Settings = {
  initRuns: 1,
  coldRequestRuns: 1,
  warm: { rounds: 1, eventsPerRound: 10, warmupEvents: 2 },
  throughput: { events: 12, limitPerSecond: 50, containers: 2, runs: 1 },
  calls: { invocations: 10, emailEvents: 2, memoryEvents: 20, memorySampleEvery: 10, memoryRuns: 1 },
  backfill: SMOKE_BACKFILL,
};

const progress = (message: string) => process.stderr.write(`[bench] ${message}\n`);

/** From Lambda: Secrets Manager and SQS in-region, HelpCrunch across the internet. */
const ROUND_TRIPS: RoundTrips = { secretsManager: 20, helpcrunch: 60, sqs: 15 };

/** A naive deployment sets no NODE_OPTIONS: Lambda's bootstrap sizes the heap. */
const withoutNodeOptions = ({ NODE_OPTIONS: _, ...environment }: Record<string, string>) => environment;

/** A function's bundle as measured: the artifact's files, the rebuild's metafile figures. */
function subject(
  fn: LambdaFunction,
  artifact: { entryFile: string; jsBytes: number; mapBytes: number; jsFiles: number; zipBytes?: number },
  rebuild: BuiltBundle,
): ColdStartSubject {
  return {
    name: fn.name,
    entryFile: artifact.entryFile,
    environment: fn.environment,
    memoryMiB: fn.memoryMiB,
    jsBytes: artifact.jsBytes,
    mapBytes: artifact.mapBytes,
    jsFiles: artifact.jsFiles,
    ...(artifact.zipBytes !== undefined && { zipBytes: artifact.zipBytes }),
    initBytes: rebuild.initBytes,
    dependencies: rebuild.dependencies,
  };
}

async function coldStartSubjects(
  smoke: boolean,
  projectDir: string,
  workDir: string,
): Promise<{ functions: LambdaFunction[]; subjects: ColdStartSubject[] }> {
  if (smoke) {
    const functions = declaredFunctions(projectDir);
    const subjects = await Promise.all(
      functions.map(async (fn) => {
        const built = await buildLambdaBundle({
          projectDir,
          source: fn.source,
          outDir: join(workDir, 'built', fn.name),
        });
        return subject(fn, built, built);
      }),
    );
    return { functions, subjects };
  }
  progress('serverless package …');
  const packaged = await packageFunctions(projectDir, workDir);
  const subjects = await Promise.all(
    packaged.map(async (fn) => {
      // The same options again with a metafile: what each bundle pays for.
      const rebuild = await buildLambdaBundle({
        projectDir,
        source: fn.source,
        outDir: join(workDir, 'rebuilt', fn.name),
      });
      if (rebuild.jsBytes !== fn.jsBytes || rebuild.jsFiles !== fn.jsFiles) {
        throw new Error(
          `${fn.name}: the esbuild rebuild (${rebuild.jsBytes} B in ${rebuild.jsFiles} files) differs from the artifact (${fn.jsBytes} B in ${fn.jsFiles})`,
        );
      }
      return subject(fn, fn, rebuild);
    }),
  );
  return { functions: packaged, subjects };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      out: { type: 'string' },
      'rtt-secrets-manager': { type: 'string', default: String(ROUND_TRIPS.secretsManager) },
      'rtt-helpcrunch': { type: 'string', default: String(ROUND_TRIPS.helpcrunch) },
      'rtt-sqs': { type: 'string', default: String(ROUND_TRIPS.sqs) },
    },
  });
  const smoke = values.smoke ?? false;
  const roundTrips: RoundTrips = {
    secretsManager: Number(values['rtt-secrets-manager']),
    helpcrunch: Number(values['rtt-helpcrunch']),
    sqs: Number(values['rtt-sqs']),
  };
  if (!Object.values(roundTrips).every((ms) => Number.isFinite(ms) && ms >= 0))
    throw new Error('round trips must be milliseconds >= 0');
  const node = benchNode(smoke);
  // A smoke run's figures mean nothing: by default they never replace the real results.
  const outFile =
    values.out ?? (smoke ? join(tmpdir(), 'helpcrunch-bench-smoke.json') : join(projectRoot, 'bench/results.json'));
  const settings = smoke ? SMOKE : FULL;
  const started = performance.now();
  const workDir = mkdtempSync(join(tmpdir(), 'helpcrunch-bench-'));
  try {
    const projectDir = projectCopy(join(workDir, 'project'));
    const { functions, subjects } = await coldStartSubjects(smoke, projectDir, workDir);
    const webhook = functions.find((fn) => fn.name === 'webhook');
    const eventbridge = functions.find((fn) => fn.name === 'eventbridge');
    if (!webhook || !eventbridge) throw new Error('serverless.yml must declare the webhook and eventbridge functions');

    const reference = await buildReferenceBundle(join(workDir, 'reference'));
    const naiveEnvironment = withoutNodeOptions(webhook.environment);
    progress(
      `1/6 cold start: ${subjects.length} handlers and the reference, ${settings.initRuns} runs each on node ${node.version} (${node.origin}) …`,
    );
    const coldStart = await measureColdStart(
      node,
      { name: 'reference', ...reference, environment: naiveEnvironment, memoryMiB: webhook.memoryMiB },
      subjects,
      settings.initRuns,
    );

    // Parts 2-5 run the handlers built with the deployed options and the benchmark's rules.
    const benchBuild = async (fn: LambdaFunction) => {
      const dir = join(workDir, 'bench-bundle', fn.name);
      const built = await buildLambdaBundle({
        projectDir,
        source: fn.source,
        outDir: dir,
        rulesFile: join(projectRoot, 'bench/rules.bench.yml'),
      });
      return { dir, entryFile: built.entryFile } satisfies Bundle;
    };
    const bundle = await benchBuild(webhook);
    const eventbridgeBundle = await benchBuild(eventbridge);

    const coldRequestSubject = (
      fn: LambdaFunction,
      entryFile: string,
      dispatch: 'inline' | 'queue',
    ): ColdRequestSubject => ({
      name: `${fn.name}, ${dispatch}`,
      entryFile,
      memoryMiB: fn.memoryMiB,
      timeoutMs: fn.timeoutSeconds * 1000,
      environment: { ...fn.environment, DISPATCH: dispatch },
      trigger: fn.name === 'eventbridge' ? 'eventbridge' : 'webhook',
      downstream: dispatch === 'inline' ? 'helpcrunch' : 'sqs',
    });
    progress(`2/6 cold request: 4 functions × 2 networks, ${settings.coldRequestRuns} runs each …`);
    mkdirSync(join(workDir, 'cold-request'), { recursive: true });
    const coldRequest = await measureColdRequests(
      node,
      {
        ...coldRequestSubject(webhook, reference.entryFile, 'inline'),
        name: 'reference',
        environment: naiveEnvironment,
      },
      [
        coldRequestSubject(webhook, bundle.entryFile, 'inline'),
        coldRequestSubject(eventbridge, eventbridgeBundle.entryFile, 'inline'),
        coldRequestSubject(webhook, bundle.entryFile, 'queue'),
      ],
      { runs: settings.coldRequestRuns, roundTrips, workDir: join(workDir, 'cold-request') },
    );

    const common = { workDir: join(workDir, 'containers'), timeoutMs: webhook.timeoutSeconds * 1000 };
    mkdirSync(common.workDir, { recursive: true });

    progress(`3/6 warm overhead: ${settings.warm.rounds} × ${settings.warm.eventsPerRound} events per side …`);
    const warmOverhead = await measureWarmOverhead(bundle, { ...settings.warm, ...common });

    const throughputOptions = { ...settings.throughput, ...common };
    progress(
      `4/6 throughput: ${settings.throughput.runs} bursts of ${settings.throughput.events} events at ${settings.throughput.limitPerSecond}/s, inline then queue …`,
    );
    const inline = await measureInline(bundle, throughputOptions);
    const queue = await measureQueue(throughputOptions);

    progress(
      `5/6 calls and memory: ${settings.calls.invocations} invocations, then ${settings.calls.memoryEvents} events in a process of their own, ${settings.calls.memoryRuns} runs per subject …`,
    );
    const callsOptions = { ...settings.calls, ...common };
    const calls = await measureCalls(bundle, callsOptions);
    const lambda = { memoryMiB: webhook.memoryMiB, nodeOptions: webhook.environment.NODE_OPTIONS };
    const bareAxios = await buildReferenceBundle(join(workDir, 'reference'), 'bench/reference/bare-axios.ts');
    const memory = await measureMemory(
      { handler: bundle.entryFile, reference: reference.entryFile, bareAxios: bareAxios.entryFile },
      node,
      lambda,
      callsOptions,
    );

    progress(
      `6/6 backfill: ${settings.backfill.enqueueRows} rows enqueued, then live events with and without a backlog of ${settings.backfill.backlog} …`,
    );
    const backfill = await measureBackfill(settings.backfill);

    const webhookInitMs = coldStart.handlers.find((handler) => handler.name === 'webhook')!.initMs.median;
    const cost = estimateCost({
      memoryMiB: webhook.memoryMiB,
      overheadMs: Math.max(0, warmOverhead.handlerMs.p50.median - warmOverhead.bareAxiosMs.p50.median),
      initMs: webhookInitMs,
      secrets: Object.keys(calls.secretsManager.callsBySecret).length,
      secretTtlSeconds: calls.secretsManager.ttlSeconds,
    });
    const measured: Omit<BenchResults, 'targets'> = {
      generatedAt: new Date().toISOString(),
      smoke,
      durationSeconds: (performance.now() - started) / 1000,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        platform: `${process.platform} ${process.arch}`,
        benchNode: process.version,
      },
      artifacts: smoke ? 'esbuild' : 'serverless package',
      coldStart,
      coldRequest,
      warmOverhead,
      throughput: {
        events: settings.throughput.events,
        limitPerSecond: settings.throughput.limitPerSecond,
        inline,
        queue,
      },
      calls,
      memory,
      cost,
      backfill,
    };
    const results: BenchResults = { ...measured, targets: checkTargets(measured) };
    writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
    console.log(formatReport(results));
    console.log(`\nWrote ${outFile}`);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
