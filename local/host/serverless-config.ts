/**
 * What the local host takes from serverless.yml, so a local run limits each function the way the
 * deployment does: its handler module and export, timeout and memory size.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface FunctionConfig {
  /** Source file of the handler module, absolute. */
  entry: string;
  /** Name of the exported handler. */
  exportName: string;
  timeoutMs: number;
  memoryMb: number;
}

// The Serverless Framework's defaults when serverless.yml sets none.
const DEFAULT_TIMEOUT_SECONDS = 6;
const DEFAULT_MEMORY_MB = 1024;

type Yaml = Record<string, unknown>;

function positive(value: unknown, where: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0)) throw new Error(`serverless.yml ${where} must be a positive number for local runs`);
  return value;
}

/** The named serverless.yml functions, by name. */
export function readFunctionConfigs(names: readonly string[]): Record<string, FunctionConfig> {
  const document = parse(readFileSync(join(PROJECT_ROOT, 'serverless.yml'), 'utf8')) as Yaml;
  const provider = (document.provider ?? {}) as Yaml;
  const declared = (document.functions ?? {}) as Record<string, Yaml | undefined>;
  const functions: Record<string, FunctionConfig> = {};
  for (const name of names) {
    const definition = declared[name];
    if (!definition) throw new Error(`serverless.yml defines no function '${name}'`);
    const handler = String(definition.handler);
    const dot = handler.lastIndexOf('.');
    functions[name] = {
      entry: join(PROJECT_ROOT, `${handler.slice(0, dot)}.ts`),
      exportName: handler.slice(dot + 1),
      timeoutMs: positive(definition.timeout ?? provider.timeout, `functions.${name}.timeout`, DEFAULT_TIMEOUT_SECONDS) * 1000,
      memoryMb: positive(definition.memorySize ?? provider.memorySize, `functions.${name}.memorySize`, DEFAULT_MEMORY_MB),
    };
  }
  return functions;
}
