/**
 * The Node binary for fresh-process measurements: the Lambda runtime's major (nodejs24.x) from the
 * npm registry's `node@24` package when it can be fetched, else the Node running the benchmark.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface NodeRuntime {
  path: string;
  version: string;
  /** Where it came from, for the report. */
  origin: string;
}

export const LAMBDA_NODE_MAJOR = 24;

/** Set by a run that restarted itself on a fetched node, so the report still says where it came from. */
export const NODE_ORIGIN_ENV = 'BENCH_NODE_ORIGIN';

export const localNode = (): NodeRuntime => ({
  path: process.execPath,
  version: process.version,
  origin: process.env[NODE_ORIGIN_ENV] ?? 'the local node',
});

export async function lambdaNode(): Promise<NodeRuntime> {
  if (Number(process.versions.node.split('.')[0]) === LAMBDA_NODE_MAJOR) return localNode();
  try {
    const { stdout } = await run('npx', ['-y', `node@${LAMBDA_NODE_MAJOR}`, '-p', 'process.execPath + " " + process.version'], {
      timeout: 120_000,
    });
    const [path, version] = stdout.trim().split(/\s+/).slice(-2);
    if (path && version?.startsWith(`v${LAMBDA_NODE_MAJOR}.`)) return { path, version, origin: `npm node@${LAMBDA_NODE_MAJOR}` };
  } catch {
    // Offline or no npx: measure with the local node and say so.
  }
  return localNode();
}

/**
 * The flags Lambda's Node.js bootstrap starts node with (the runtime's /var/runtime/bootstrap in
 * the AWS base images): the young and old generations sized from the function's memory, unless
 * the function's NODE_OPTIONS sizes either itself, in which case the bootstrap adds neither.
 */
export function lambdaNodeFlags(memoryMiB: number, nodeOptions = ''): string[] {
  const flags = ['--expose-gc', '--max-http-header-size=81920'];
  if (/--max[-_](semi|old)[-_]space[-_]size/.test(nodeOptions)) return flags;
  const newSpace = Math.floor(memoryMiB / 10);
  return [...flags, `--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memoryMiB - newSpace}`];
}
