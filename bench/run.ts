/**
 * `npm run bench`: cold start, the cold request over loopback and over TLS with realistic round
 * trips, rate-limit throughput, calls and memory, each against a reference run side by side.
 * Prints a table and writes bench/results.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { deployParamDefault } from '../local/host/serverless-config';
import { declaredFunctions, packageFunctions, projectCopy, type LambdaFunction } from './artifacts';
import { buildLambdaBundle, buildReferenceBundle, projectRoot, type BuiltBundle } from './bundles';
import { measureCalls, measureMemory, type CallsAndMemoryOptions } from './calls-and-memory';
import { measureColdRequests, type ColdRequestSubject } from './cold-request';
import { DEFAULT_ROUND_TRIPS as ROUND_TRIPS, type RoundTrips } from './cold-request-network';
import { measureColdStart, type ColdStartSubject } from './cold-start';
import type { Bundle } from './containers';
import { estimateCost } from './cost';
import { benchNode } from './node-runtime';
import { checkTargets, formatReport, PARTS, type BenchResults, type Measured, type Part } from './report';
import { type BackfillBenchOptions, FULL_BACKFILL, measureBackfill, SMOKE_BACKFILL } from './backfill';
import { measureInline, measureQueue, type ThroughputOptions } from './throughput';

const USAGE = `npm run bench [-- options]     the full run (~16 min on 2 cores), on the project's node@24
npm run bench:smoke             one tiny iteration of every part (what the test runs), results to the temp directory

  --parts <list>                only these parts, comma-separated (default: all):
                                ${PARTS.join(', ')}
  --out <file>                  where the results go (default bench/results.json; smoke: the temp directory)
  --rtt-secrets-manager <ms>    round trips of the cold request's TLS network (default 20, 60, 15, 8)
  --rtt-helpcrunch <ms>
  --rtt-sqs <ms>
  --rtt-dynamodb <ms>
  --smoke                       tiny counts, esbuild builds instead of \`serverless package\`: figures mean nothing

The full run packages with \`serverless package\` and runs on Lambda's Node major (the project's
node@24, which npm run puts first on the PATH); the smoke run builds with esbuild.`;

interface Settings {
  initRuns: number;
  coldRequestRuns: number;
  throughput: Omit<ThroughputOptions, 'workDir' | 'timeoutMs' | 'ledgerRoundTripMs'>;
  calls: Omit<CallsAndMemoryOptions, 'workDir' | 'timeoutMs'>;
  backfill: BackfillBenchOptions;
}

const FULL: Settings = {
  initRuns: 15,
  coldRequestRuns: 15,
  throughput: { events: 1000, limitPerSecond: 20, containers: 10, runs: 3 },
  calls: { invocations: 1000, emailEvents: 100, memoryEvents: 10_000, memorySampleEvery: 1000, memoryRuns: 3 },
  backfill: FULL_BACKFILL,
};

const SMOKE: Settings = {
  initRuns: 1,
  coldRequestRuns: 1,
  throughput: { events: 12, limitPerSecond: 50, containers: 2, runs: 1 },
  calls: { invocations: 10, emailEvents: 2, memoryEvents: 20, memorySampleEvery: 10, memoryRuns: 1 },
  backfill: SMOKE_BACKFILL,
};

/** Which parts to run: all unless --parts names some. */
function partsFrom(list: string | undefined): Part[] {
  if (list === undefined) return [...PARTS];
  const named = list.split(',').map((part) => part.trim());
  const unknown = named.filter((part) => !(PARTS as readonly string[]).includes(part));
  if (unknown.length > 0) throw new Error(`unknown part ${unknown.join(', ')}: expected ${PARTS.join(', ')}`);
  return PARTS.filter((part) => named.includes(part));
}

const progress = (message: string) => process.stderr.write(`[bench] ${message}\n`);

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
      parts: { type: 'string' },
      out: { type: 'string' },
      'rtt-secrets-manager': { type: 'string', default: String(ROUND_TRIPS.secretsManager) },
      'rtt-helpcrunch': { type: 'string', default: String(ROUND_TRIPS.helpcrunch) },
      'rtt-sqs': { type: 'string', default: String(ROUND_TRIPS.sqs) },
      'rtt-dynamodb': { type: 'string', default: String(ROUND_TRIPS.dynamodb) },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const smoke = values.smoke ?? false;
  const parts = partsFrom(values.parts);
  const roundTrips: RoundTrips = {
    secretsManager: Number(values['rtt-secrets-manager']),
    helpcrunch: Number(values['rtt-helpcrunch']),
    sqs: Number(values['rtt-sqs']),
    dynamodb: Number(values['rtt-dynamodb']),
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
  const step = (part: Part, message: string) =>
    progress(`${parts.indexOf(part) + 1}/${parts.length} ${part}: ${message} …`);
  try {
    const projectDir = projectCopy(join(workDir, 'project'));
    const { functions, subjects } = await coldStartSubjects(smoke, projectDir, workDir);
    const webhook = functions.find((fn) => fn.name === 'webhook');
    const eventbridge = functions.find((fn) => fn.name === 'eventbridge');
    if (!webhook || !eventbridge) throw new Error('serverless.yml must declare the webhook and eventbridge functions');

    const reference = await buildReferenceBundle(join(workDir, 'reference'));
    const naiveEnvironment = withoutNodeOptions(webhook.environment);
    const measured: Partial<Measured> = {};
    if (parts.includes('cold-start')) {
      step(
        'cold-start',
        `${subjects.length} handlers and the reference, ${settings.initRuns} runs each on node ${node.version} (${node.origin})`,
      );
      measured.coldStart = await measureColdStart(
        node,
        { name: 'reference', ...reference, environment: naiveEnvironment, memoryMiB: webhook.memoryMiB },
        subjects,
        settings.initRuns,
      );
    }

    // The other parts run the handlers built with the deployed options and the benchmark's rules.
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

    if (parts.includes('cold-request')) {
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
      step('cold-request', `4 functions × 2 networks, ${settings.coldRequestRuns} runs each`);
      mkdirSync(join(workDir, 'cold-request'), { recursive: true });
      measured.coldRequest = await measureColdRequests(
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
    }

    const common = { workDir: join(workDir, 'containers'), timeoutMs: webhook.timeoutSeconds * 1000 };
    mkdirSync(common.workDir, { recursive: true });

    if (parts.includes('throughput')) {
      const throughputOptions = { ...settings.throughput, ...common, ledgerRoundTripMs: roundTrips.dynamodb };
      step(
        'throughput',
        `${settings.throughput.runs} bursts of ${settings.throughput.events} events at ${settings.throughput.limitPerSecond}/s, inline then queue`,
      );
      measured.throughput = {
        events: settings.throughput.events,
        limitPerSecond: settings.throughput.limitPerSecond,
        inline: await measureInline(bundle, throughputOptions),
        queue: await measureQueue(throughputOptions),
      };
    }

    const callsOptions = { ...settings.calls, ...common };
    if (parts.includes('calls')) {
      step('calls', `${settings.calls.invocations} invocations of one container`);
      measured.calls = await measureCalls(bundle, callsOptions);
    }
    if (parts.includes('memory')) {
      step(
        'memory',
        `${settings.calls.memoryEvents} events in a process of their own, ${settings.calls.memoryRuns} runs per subject`,
      );
      const lambda = { memoryMiB: webhook.memoryMiB, nodeOptions: webhook.environment.NODE_OPTIONS };
      const bareAxios = await buildReferenceBundle(join(workDir, 'reference'), 'bench/reference/bare-axios.ts');
      measured.memory = await measureMemory(
        { handler: bundle.entryFile, reference: reference.entryFile, bareAxios: bareAxios.entryFile },
        node,
        lambda,
        callsOptions,
      );
    }

    if (parts.includes('backfill')) {
      step(
        'backfill',
        `a ${settings.backfill.enqueueRows.toLocaleString('en-US')}-row backfill's enqueue rate, and live-event latency beside it`,
      );
      measured.backfill = await measureBackfill(settings.backfill);
    }

    const webhookInit = measured.coldStart?.handlers.find((handler) => handler.name === 'webhook');
    if (webhookInit && measured.calls && measured.throughput) {
      measured.cost = estimateCost({
        memoryMiB: webhook.memoryMiB,
        initMs: webhookInit.initMs.median,
        secrets: Object.keys(measured.calls.secretsManager.callsBySecret).length,
        secretTtlSeconds: measured.calls.secretsManager.ttlSeconds,
        pacing: {
          ratePerMinute: Number(deployParamDefault('ratePerMinute')),
          workerConcurrency: Number(deployParamDefault('workerConcurrency')),
        },
        ledger: {
          inline: measured.calls.ledgerRequestsPerEvent.byId,
          queue: measured.throughput.queue.ledger.requestsPerJob,
          dedupDays: Number(deployParamDefault('dedupDays')),
        },
      });
    }
    const results: Omit<BenchResults, 'targets'> = {
      generatedAt: new Date().toISOString(),
      smoke,
      parts,
      durationSeconds: (performance.now() - started) / 1000,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        platform: `${process.platform} ${process.arch}`,
        benchNode: process.version,
      },
      artifacts: smoke ? 'esbuild' : 'serverless package',
      ...measured,
    };
    const checked: BenchResults = { ...results, targets: checkTargets(results) };
    writeFileSync(outFile, `${JSON.stringify(checked, null, 2)}\n`);
    console.log(formatReport(checked));
    console.log(`\nWrote ${outFile}`);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
