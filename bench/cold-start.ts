/**
 * Part 1, cold start: bundle sizes, and module init = a fresh Node process importing the handler
 * module, timed around the `import()`. The process starts as Lambda starts it: the bootstrap's
 * flags for the function's memory and the function's environment (NODE_OPTIONS included).
 * Every subject runs once per round, in alternating order, so the noise of a round hits all of
 * them alike; ratios are taken within a round.
 */
import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { LambdaFunction } from './artifacts';
import type { Dependency } from './bundles';
import { lambdaNodeFlags, type NodeRuntime } from './node-runtime';
import { pairedRatios, spread, type Spread } from './stats';

const run = promisify(execFile);

/** A function as serverless.yml declares it (its environment's NODE_OPTIONS applies, as in Lambda), built. */
export interface ColdStartSubject extends Pick<LambdaFunction, 'name' | 'environment' | 'memoryMiB'> {
  entryFile: string;
  jsBytes: number;
  initBytes: number;
  mapBytes: number;
  jsFiles: number;
  zipBytes?: number;
  dependencies: Dependency[];
}

export interface ColdStartFigures
  extends Omit<ColdStartSubject, 'entryFile' | 'dependencies' | 'environment' | 'memoryMiB'> {
  nodeOptions: string | null;
  initMs: Spread;
  topDependencies: Dependency[];
}

export interface HandlerColdStart extends ColdStartFigures {
  /** jsBytes ÷ the reference's. */
  sizeRatio: number;
  /** Per round: this handler's init ÷ the reference's in the same round. */
  initRatio: Spread;
}

export interface ColdStartResult {
  node: { version: string; origin: string };
  runs: number;
  reference: ColdStartFigures;
  handlers: HandlerColdStart[];
}

const TOP_DEPENDENCIES = 12;

// Runs in the fresh process: only the import is timed, not Node's own start-up.
const importScript = `
const started = performance.now();
await import(process.argv[1]);
const ms = performance.now() - started;
process.stdout.write(JSON.stringify({ ms }), () => process.exit(0));
`;

/**
 * A function's environment with credentials and region as Lambda provides them; nothing else
 * leaks in from the benchmark's own environment.
 */
export function lambdaEnvironment(
  name: string,
  memoryMiB: number,
  environment: Record<string, string>,
): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench-access-key',
    AWS_SECRET_ACCESS_KEY: 'bench-secret-key',
    AWS_SESSION_TOKEN: 'bench-session-token',
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMiB),
    ...environment,
  };
}

export async function timeModuleInit(node: NodeRuntime, subject: ColdStartSubject): Promise<number> {
  const args = [
    ...lambdaNodeFlags(subject.memoryMiB, subject.environment.NODE_OPTIONS),
    '--input-type=module',
    '-e',
    importScript,
    pathToFileURL(subject.entryFile).href,
  ];
  const { stdout } = await run(node.path, args, {
    env: lambdaEnvironment(subject.name, subject.memoryMiB, subject.environment),
    timeout: 60_000,
  });
  return (JSON.parse(stdout.trim().split('\n').pop()!) as { ms: number }).ms;
}

function figures(subject: ColdStartSubject, timings: number[]): ColdStartFigures {
  const { entryFile: _entry, dependencies, environment, memoryMiB: _memory, ...sizes } = subject;
  return {
    ...sizes,
    nodeOptions: environment.NODE_OPTIONS ?? null,
    initMs: spread(timings),
    topDependencies: dependencies.slice(0, TOP_DEPENDENCIES),
  };
}

export async function measureColdStart(
  node: NodeRuntime,
  reference: ColdStartSubject,
  handlers: ColdStartSubject[],
  runs: number,
): Promise<ColdStartResult> {
  const subjects = [reference, ...handlers];
  const timings = subjects.map(() => [] as number[]);
  for (let round = 0; round < runs; round++) {
    const order = subjects.map((_, index) => index);
    if (round % 2 === 1) order.reverse();
    for (const index of order) timings[index]!.push(await timeModuleInit(node, subjects[index]!));
  }
  const [referenceTimings, ...handlerTimings] = timings;
  return {
    node: { version: node.version, origin: node.origin },
    runs,
    reference: figures(reference, referenceTimings!),
    handlers: handlers.map((handler, index) => ({
      ...figures(handler, handlerTimings[index]!),
      sizeRatio: handler.jsBytes / reference.jsBytes,
      initRatio: spread(pairedRatios(handlerTimings[index]!, referenceTimings!)),
    })),
  };
}
