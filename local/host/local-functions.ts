/**
 * The deployed functions, running here: bundles built into a temporary directory and one local
 * execution environment (worker thread) per function, each with its own copy of the environment.
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
  /** The environment every function gets (see functionEnv). */
  env: Record<string, string>;
  /** Overrides serverless.yml's timeout per function name. */
  timeoutsMs?: Readonly<Record<string, number | undefined>>;
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
  const functions = readFunctionConfigs(names);
  const outDir = await mkdtemp(join(tmpdir(), 'helpcrunch-untag-local-'));
  const containers = new Map<string, LambdaContainer>();
  const close = async () => {
    await Promise.all([...containers.values()].map((container) => container.close()));
    await rm(outDir, { recursive: true, force: true });
  };
  try {
    const bundles = await buildFunctionBundles(functions, outDir);
    await Promise.all(
      names.map(async (name) => {
        const fn = functions[name]!;
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
            ...env,
            AWS_LAMBDA_FUNCTION_NAME: functionName,
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
            AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
            // Read by Powertools to report cold starts.
            AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
          },
          onOutput: (line, stream) => onOutput(line, { functionName: name, stream }),
        });
        containers.set(name, container);
      }),
    );
  } catch (error) {
    await close();
    throw error;
  }
  return {
    invoke(name, event) {
      const container = containers.get(name);
      if (!container) throw new Error(`No local function '${name}' (started: ${[...containers.keys()].join(', ')})`);
      return container.invoke(event);
    },
    close,
  };
}
