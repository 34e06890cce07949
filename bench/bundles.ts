/**
 * esbuild builds for the benchmark: a handler with the deployed options (tooling/esbuild-options.ts),
 * optionally with the benchmark's rules, and the naive reference handler. Each build keeps its
 * metafile, which says what the bundle pays for.
 */
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { lambdaBuildOptions, lambdaEsbuildPlugins } from '../tooling/esbuild-options';

export interface Dependency {
  /** npm package name, or "(app)" for this project's code and "(build stubs)" for plugin-made modules. */
  name: string;
  bytes: number;
}

export interface BuiltBundle {
  /** Absolute path of the module Lambda imports. */
  entryFile: string;
  /** Every JavaScript file the build wrote (entry and chunks), without source maps. */
  jsBytes: number;
  /** The part of jsBytes a cold start loads: the entry and the chunks it imports statically. */
  initBytes: number;
  mapBytes: number;
  jsFiles: number;
  /** Packages by bytes in the output, largest first. */
  dependencies: Dependency[];
}

export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

const requireBanner =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

function packageOf(input: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (match) return match[1]!;
  return input.includes(':') ? '(build stubs)' : '(app)';
}

function summarise(metafile: Metafile, entryFile: string, cwd: string): Omit<BuiltBundle, 'entryFile'> {
  const outputs = Object.entries(metafile.outputs).map(([path, output]) => ({ path: resolve(cwd, path), output }));
  const js = outputs.filter(({ path }) => !path.endsWith('.map'));
  const byPath = new Map(js.map((entry) => [entry.path, entry.output]));

  // Follow static imports from the entry: what `import(handler)` loads before the first event.
  const loaded = new Set<string>();
  const pending = [entryFile];
  while (pending.length > 0) {
    const path = pending.pop()!;
    if (loaded.has(path) || !byPath.has(path)) continue;
    loaded.add(path);
    for (const imported of byPath.get(path)!.imports) {
      if (imported.kind === 'import-statement' && !imported.external) pending.push(resolve(cwd, imported.path));
    }
  }

  const bytesByPackage = new Map<string, number>();
  for (const { output } of js) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input);
      bytesByPackage.set(name, (bytesByPackage.get(name) ?? 0) + bytesInOutput);
    }
  }
  return {
    jsBytes: js.reduce((sum, { output }) => sum + output.bytes, 0),
    initBytes: [...loaded].reduce((sum, path) => sum + byPath.get(path)!.bytes, 0),
    mapBytes: outputs.filter(({ path }) => path.endsWith('.map')).reduce((sum, { output }) => sum + output.bytes, 0),
    jsFiles: js.length,
    dependencies: [...bytesByPackage]
      .map(([name, bytes]) => ({ name, bytes }))
      .filter(({ bytes }) => bytes > 0)
      .sort((a, b) => b.bytes - a.bytes),
  };
}

export interface LambdaBuild {
  /** Directory the handler paths are relative to (the service directory). */
  projectDir: string;
  /** e.g. functions/webhook.ts */
  source: string;
  outDir: string;
  /** Bundle this rules file instead of rules.yml. */
  rulesFile?: string;
}

/** A handler built as serverless-esbuild builds it: same options, output beside its source path. */
export async function buildLambdaBundle({ projectDir, source, outDir, rulesFile }: LambdaBuild): Promise<BuiltBundle> {
  const outdir = join(outDir, dirname(source));
  const result = await build({
    ...lambdaBuildOptions,
    absWorkingDir: projectDir,
    entryPoints: [source],
    outdir,
    outExtension: { '.js': '.mjs' },
    plugins: lambdaEsbuildPlugins({ rulesFile }),
    metafile: true,
    logLevel: 'silent',
  });
  const entryFile = join(outDir, source.replace(/\.[cm]?[jt]s$/, '.mjs'));
  return { entryFile, ...summarise(result.metafile, entryFile, projectDir) };
}

/**
 * A reference handler (bench/reference/) bundled and minified with esbuild's defaults. Only what
 * an ES module Lambda needs is set (ESM output, Node platform, the require banner the same
 * CommonJS dependencies need in ours); no target, no resolution tuning, no plugins, no source map.
 */
export async function buildReferenceBundle(
  outDir: string,
  source = 'bench/reference/handler.ts',
): Promise<BuiltBundle> {
  const entryFile = join(outDir, `${basename(source, extname(source))}.mjs`);
  const result = await build({
    absWorkingDir: projectRoot,
    entryPoints: [source],
    outfile: entryFile,
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    banner: { js: requireBanner },
    metafile: true,
    logLevel: 'silent',
  });
  return { entryFile, ...summarise(result.metafile, entryFile, projectRoot) };
}

/**
 * A probe script (bench/*-probe.ts) bundled for whatever Node runs it: it imports nothing but Node
 * and other bench modules, and runs in a process of its own beside the handler it measures.
 */
export async function buildProbe(source: string, outDir: string): Promise<string> {
  const outfile = join(outDir, `${basename(source, extname(source))}.mjs`);
  await build({
    absWorkingDir: projectRoot,
    entryPoints: [source],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
  });
  return outfile;
}
