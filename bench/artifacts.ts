/**
 * The handlers as Lambda runs them: `serverless package` in a scratch copy of the project (so the
 * work tree's .serverless and .esbuild are never touched), each artifact unzipped, and per
 * function the module Lambda imports and the environment it sets.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { projectRoot } from './bundles';
import { readZip } from './zip';

const run = promisify(execFile);

export interface LambdaFunction {
  /** The function's key in serverless.yml, e.g. webhook. */
  name: string;
  /** Its source file relative to the project, e.g. functions/webhook.ts. */
  source: string;
  /** Environment variables Lambda sets for it (literal values only). */
  environment: Record<string, string>;
  timeoutSeconds: number;
  memoryMiB: number;
}

export interface PackagedFunction extends LambdaFunction {
  /** Absolute path of the module Lambda imports from the unzipped artifact. */
  entryFile: string;
  zipBytes: number;
  /** JavaScript in the artifact (entry and chunks), without source maps. */
  jsBytes: number;
  mapBytes: number;
  jsFiles: number;
}

/** What `serverless package` needs; node_modules is linked, not copied. */
const projectEntries = ['serverless.yml', 'package.json', 'tsconfig.json', 'rules.yml', 'functions', 'lib', 'tooling'];

/** A copy of the project to package or build in. */
export function projectCopy(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const entry of projectEntries) {
    if (existsSync(join(projectRoot, entry))) cpSync(join(projectRoot, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(projectRoot, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** Handler `functions/webhook.handler` -> its source file, whichever extension it has. */
function sourceOf(projectDir: string, handler: string): string {
  const module = handler.slice(0, handler.lastIndexOf('.'));
  const source = ['.ts', '.mts', '.js', '.mjs']
    .map((ext) => module + ext)
    .find((path) => existsSync(join(projectDir, path)));
  if (!source) throw new Error(`no source file for handler ${handler}`);
  return source;
}

const literalStrings = (variables: Record<string, unknown> = {}) =>
  Object.fromEntries(
    Object.entries(variables).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string' && !entry[1].includes('${'),
    ),
  );

/** The functions as serverless.yml declares them, for builds that skip packaging. */
export function declaredFunctions(projectDir: string): LambdaFunction[] {
  const config = parse(readFileSync(join(projectDir, 'serverless.yml'), 'utf8')) as {
    provider: { environment?: Record<string, unknown>; timeout?: number; memorySize?: number };
    functions: Record<
      string,
      { handler: string; environment?: Record<string, unknown>; timeout?: number; memorySize?: number }
    >;
  };
  return Object.entries(config.functions).map(([name, fn]) => ({
    name,
    source: sourceOf(projectDir, fn.handler),
    environment: { ...literalStrings(config.provider.environment), ...literalStrings(fn.environment) },
    timeoutSeconds: fn.timeout ?? config.provider.timeout ?? 6,
    memoryMiB: fn.memorySize ?? config.provider.memorySize ?? 1024,
  }));
}

/** The environment of a machine with no AWS account: packaging must work offline. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  return {
    ...env,
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    SLS_TELEMETRY_DISABLED: '1',
  };
}

interface TemplateFunction {
  Type: string;
  Properties: {
    Handler: string;
    Timeout?: number;
    MemorySize?: number;
    Code: { S3Key: string };
    Environment?: { Variables?: Record<string, unknown> };
  };
}

/** Runs `serverless package` in `projectDir` and unpacks every function's artifact under `workDir`. */
export async function packageFunctions(projectDir: string, workDir: string): Promise<PackagedFunction[]> {
  const artifactsDir = join(workDir, 'artifacts');
  const serverless = join(projectRoot, 'node_modules/osls/bin/serverless.js');
  await run(process.execPath, [serverless, 'package', '--stage', 'bench', '--package', artifactsDir], {
    cwd: projectDir,
    env: offlineEnv(),
    timeout: 300_000,
  });
  const template = JSON.parse(
    readFileSync(join(artifactsDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as {
    Resources: Record<string, TemplateFunction>;
  };
  const functions = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Lambda::Function');
  return functions.map(({ Properties: fn }) => {
    const name = basename(fn.Code.S3Key, '.zip');
    const zipFile = join(artifactsDir, `${name}.zip`);
    const dir = join(workDir, 'unpacked', name);
    let jsBytes = 0;
    let mapBytes = 0;
    let jsFiles = 0;
    for (const { path, data } of readZip(zipFile)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), data);
      if (path.endsWith('.map')) mapBytes += data.length;
      else if (/\.[cm]?js$/.test(path)) {
        jsBytes += data.length;
        jsFiles++;
      }
    }
    const module = fn.Handler.slice(0, fn.Handler.lastIndexOf('.'));
    const entryFile = ['.mjs', '.js', '.cjs'].map((ext) => join(dir, module + ext)).find((path) => existsSync(path));
    if (!entryFile) throw new Error(`${name}.zip has no module for handler ${fn.Handler}`);
    return {
      name,
      source: sourceOf(projectDir, fn.Handler),
      environment: literalStrings(fn.Environment?.Variables),
      timeoutSeconds: fn.Timeout ?? 6,
      memoryMiB: fn.MemorySize ?? 1024,
      entryFile,
      zipBytes: statSync(zipFile).size,
      jsBytes,
      mapBytes,
      jsFiles,
    };
  });
}
