/**
 * Builds what a local run executes: each function bundled with the deployment's esbuild options
 * and plugins (tooling/esbuild-options.ts, rules.yml inlined), plus the worker-thread runtime that
 * hosts a bundle (lambda-worker.ts). Only the target differs: the Node running here, not Lambda's.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { lambdaBuildOptions, lambdaEsbuildPlugins } from '../../tooling/esbuild-options';
import { PROJECT_ROOT, type FunctionConfig } from './serverless-config';

export interface FunctionBundles {
  /** The bundled lambda-worker.ts. */
  runtimeFile: string;
  /** Function name -> its bundled handler module. */
  handlers: Record<string, string>;
}

const LOCAL_TARGET = `node${process.versions.node.split('.')[0]}`;

/** Bundles lambda-worker.ts into `outFile`, a plain .mjs any Node can start as a worker. */
export async function buildLambdaRuntime(outFile: string): Promise<void> {
  await build({
    entryPoints: [join(PROJECT_ROOT, 'local/host/lambda-worker.ts')],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: LOCAL_TARGET,
    logLevel: 'error',
  });
}

/** `rulesFile` replaces rules.yml in the bundles. */
export async function buildFunctionBundles(
  functions: Readonly<Record<string, FunctionConfig>>,
  outDir: string,
  rulesFile?: string,
): Promise<FunctionBundles> {
  const runtimeFile = join(outDir, 'lambda-runtime.mjs');
  await Promise.all([
    build({
      ...lambdaBuildOptions,
      entryPoints: Object.fromEntries(Object.entries(functions).map(([name, fn]) => [name, fn.entry])),
      outdir: outDir,
      outExtension: { '.js': '.mjs' },
      target: LOCAL_TARGET,
      plugins: lambdaEsbuildPlugins({ rulesFile }),
      logLevel: 'error',
    }),
    buildLambdaRuntime(runtimeFile),
  ]);
  return {
    runtimeFile,
    handlers: Object.fromEntries(Object.keys(functions).map((name) => [name, join(outDir, `${name}.mjs`)])),
  };
}
