/**
 * The deployed functions, running here: bundles built into a temporary directory and local
 * execution environments (worker threads), each with its own copy of the environment: the
 * function's serverless.yml environment under the caller's. One environment per function serves
 * its invocations concurrently; a function given several `instances` (the worker, one per batch
 * its event source runs at once) gets each invocation on its least busy environment.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFunctionBundles } from './bundle';
import { startLambdaContainer, type InvokeResult, type LambdaContainer } from './lambda-container';
import { readFunctionConfigs } from './serverless-config';

export interface LocalFunctionsOptions {
  /** serverless.yml function names (default webhook and eventbridge). */
  names?: readonly string[];
  /** The environment every function gets (see functionEnv), over its serverless.yml environment. */
  env: Record<string, string>;
  /** Resolve serverless.yml's {Ref: …} environment values, e.g. the queue URLs. */
  refs?: Readonly<Record<string, string>>;
  /** Execution environments per function name (default 1). */
  instances?: Readonly<Record<string, number>>;
  /** Overrides serverless.yml's timeout per function name. */
  timeoutsMs?: Readonly<Record<string, number | undefined>>;
  /** Bundled in place of the project's rules.yml. */
  rulesFile?: string;
  /** Every line a function prints. */
  onOutput(line: string, origin: { functionName: string; stream: 'stdout' | 'stderr' }): void;
}

export interface LocalFunctions {
  invoke(name: string, event: unknown): Promise<InvokeResult>;
  close(): Promise<void>;
}

const DEFAULT_FUNCTIONS = ['webhook', 'eventbridge'] as const;
const SERVICE_PREFIX = 'helpcrunch-untag-local-';

export async function startLocalFunctions(options: LocalFunctionsOptions): Promise<LocalFunctions> {
  const { names = DEFAULT_FUNCTIONS, env, onOutput } = options;
  const functions = readFunctionConfigs(names, options.refs);
  const outDir = await mkdtemp(join(tmpdir(), 'helpcrunch-untag-local-'));
  const containers = new Map<string, { container: LambdaContainer; busy: number }[]>();
  const close = async () => {
    await Promise.all([...containers.values()].flat().map(({ container }) => container.close()));
    await rm(outDir, { recursive: true, force: true });
  };
  try {
    const bundles = await buildFunctionBundles(functions, outDir, options.rulesFile);
    const start = async (name: string) => {
      const { environment, ...fn } = functions[name]!;
      // NODE_OPTIONS configures Lambda's process; these environments are threads of this one.
      const { NODE_OPTIONS: _, ...deployed } = environment;
      const functionName = `${SERVICE_PREFIX}${name}`;
      const container = await startLambdaContainer({
        runtimeFile: bundles.runtimeFile,
        handlerFile: bundles.handlers[name]!,
        exportName: fn.exportName,
        functionName,
        memoryMb: fn.memoryMb,
        region: env.AWS_REGION ?? 'us-east-1',
        timeoutMs: options.timeoutsMs?.[name] ?? fn.timeoutMs,
        env: {
          ...deployed,
          ...env,
          AWS_LAMBDA_FUNCTION_NAME: functionName,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
          AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
          // As Lambda sets it: the logger reports the first invocation as a cold start.
          AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        },
        onOutput: (line, stream) => onOutput(line, { functionName: name, stream }),
      });
      const list = containers.get(name) ?? [];
      list.push({ container, busy: 0 });
      containers.set(name, list);
    };
    await Promise.all(
      names.flatMap((name) => Array.from({ length: options.instances?.[name] ?? 1 }, () => start(name))),
    );
  } catch (error) {
    await close();
    throw error;
  }
  return {
    async invoke(name, event) {
      const list = containers.get(name);
      if (!list) throw new Error(`No local function '${name}' (started: ${[...containers.keys()].join(', ')})`);
      const least = list.reduce((best, candidate) => (candidate.busy < best.busy ? candidate : best));
      least.busy++;
      try {
        return await least.container.invoke(event);
      } finally {
        least.busy--;
      }
    },
    close,
  };
}
