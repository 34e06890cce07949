/**
 * The Node binary for fresh-process measurements: the one running the benchmark, which npm run
 * bench makes the project's own node@24 (Lambda's nodejs24.x major).
 */
import { LAMBDA_NODE_MAJOR, requireLambdaNode } from '../tooling/lambda-node';

export interface NodeRuntime {
  path: string;
  version: string;
  /** Where it came from, for the report. */
  origin: string;
}

/** The full run measures on Lambda's major only; a smoke run takes whatever runs it. */
export function benchNode(smoke: boolean): NodeRuntime {
  if (!smoke) requireLambdaNode('npm run bench');
  return { path: process.execPath, version: process.version, origin: `the project's node@${LAMBDA_NODE_MAJOR}` };
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
  return [
    ...flags,
    `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
    `--max-old-space-size=${memoryMiB - newSpace}`,
  ];
}
