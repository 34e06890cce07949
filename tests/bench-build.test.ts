/**
 * The Lambda build options the benchmark measures (tooling/esbuild-options.ts, used by
 * serverless-esbuild through tooling/esbuild-config.cjs): what they keep out of the bundle and
 * out of a cold start, and that what they swap in still works.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { builtinModules, createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaBuildOptions, lambdaEsbuildPlugins } from '../tooling/esbuild-options';

const require = createRequire(import.meta.url);
const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const workDir = mkdtempSync(join(tmpdir(), 'bench-build-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Builds `entry` (a project path, or module source resolved from the project) with the Lambda options. */
async function bundle(
  entry: string | { contents: string },
  outdir: string,
  overrides: BuildOptions = {},
): Promise<Metafile> {
  const result = await build({
    ...lambdaBuildOptions,
    ...overrides,
    absWorkingDir: root,
    ...(typeof entry === 'string'
      ? { entryPoints: [entry] }
      : { stdin: { contents: entry.contents, resolveDir: root, sourcefile: 'entry.ts', loader: 'ts' } }),
    outdir,
    outExtension: { '.js': '.mjs' },
    plugins: lambdaEsbuildPlugins(),
    metafile: true,
    logLevel: 'silent',
  });
  return result.metafile;
}

describe('the webhook bundle', () => {
  let metafile: Metafile;
  const outdir = join(workDir, 'webhook/functions');
  beforeAll(async () => {
    metafile = await bundle('functions/webhook.ts', outdir);
  }, 30_000);

  const inputs = () => Object.values(metafile.outputs).flatMap((output) => Object.keys(output.inputs));

  it('carries neither form-data with its MIME database nor axios’s own adapters (Node, fetch, XHR) and what they bring', () => {
    expect(
      inputs().filter((input) =>
        /node_modules\/(form-data|mime-types|mime-db|follow-redirects|proxy-from-env)\//.test(input),
      ),
    ).toEqual([]);
    for (const adapter of ['http', 'fetch', 'xhr']) {
      const bundled = Object.values(metafile.outputs)
        .flatMap((output) => Object.entries(output.inputs))
        .find(([input]) => input.endsWith(`axios/lib/adapters/${adapter}.js`));
      expect(bundled?.[1].bytesInOutput ?? 0).toBeLessThan(100);
    }
  });

  it('takes the ES module build of the AWS SDK only, never its CommonJS one as well', () => {
    expect(inputs().filter((input) => input.includes('/dist-cjs/'))).toEqual([]);
    expect(inputs().some((input) => input.includes('@aws-sdk/client-secrets-manager/dist-es/'))).toBe(true);
  });

  it('loads every Node built-in through require(), never through an ES module import', () => {
    const builtins = new Set(builtinModules);
    const esmImports = Object.values(metafile.outputs)
      .flatMap((output) => output.imports)
      .filter((imported) => imported.external && imported.kind !== 'require-call')
      .map((imported) => imported.path)
      .filter((path) => builtins.has(path.replace(/^node:/, '')));
    expect(esmImports).toEqual([]);
  });

  it('writes its chunks into webhook.chunks/, and keeps the credential providers Lambda never uses out of the entry', () => {
    const files = Object.keys(metafile.outputs).map((path) => relative(outdir, join(root, path)));
    const chunks = files.filter((file) => file !== 'webhook.mjs' && file !== 'webhook.mjs.map');
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.every((file) => file.startsWith('webhook.chunks/'))).toBe(true);
    const entry = Object.entries(metafile.outputs).find(([path]) => path.endsWith('functions/webhook.mjs'))![1];
    expect(
      entry.imports.some((imported) => imported.kind === 'dynamic-import' && imported.path.includes('webhook.chunks/')),
    ).toBe(true);
    expect(Object.keys(entry.inputs).some((input) => input.includes('credential-provider-sso'))).toBe(false);
  });

  it('does not make Node load its fetch implementation (undici) when imported', async () => {
    const script = [
      `await import(${JSON.stringify(pathToFileURL(join(outdir, 'webhook.mjs')).href)});`,
      "console.log(JSON.stringify(process.moduleLoadList.filter((name) => name.includes('undici'))));",
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', HELPCRUNCH_API_KEY_SECRET_ID: 'key' },
    });
    expect(JSON.parse(stdout)).toEqual([]);
  });
});

describe('what the build swaps in still works', () => {
  let server: ReturnType<typeof createServer>;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ method: req.method, type: req.headers['content-type'], body })),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tags`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('axios sends JSON through the project’s adapter, recognises a FormData, and reports its own adapters as unavailable', async () => {
    // No source map: Vite would look for the sources of a bundle it imports.
    const entry =
      "export { default as axios } from 'axios';\nexport { createNodeHttpAdapter } from './lib/http/transport';\n";
    await bundle({ contents: entry }, join(workDir, 'axios-out'), { sourcemap: false });
    const { axios, createNodeHttpAdapter } = (await import(
      pathToFileURL(join(workDir, 'axios-out/stdin.mjs')).href
    )) as {
      axios: typeof import('axios').default;
      createNodeHttpAdapter: typeof import('../lib/http/transport').createNodeHttpAdapter;
    };

    const json = await axios.delete(url, { adapter: createNodeHttpAdapter(), data: { tags: [{ name: 'VIP' }] } });
    expect(json.data).toEqual({ method: 'DELETE', type: 'application/json', body: '{"tags":[{"name":"VIP"}]}' });

    const form = new FormData();
    form.append('name', 'VIP');
    expect(axios.formToJSON(form)).toEqual({ name: 'VIP' });
    for (const adapter of ['http', 'fetch', 'xhr'])
      expect(() => axios.getAdapter(adapter)).toThrow(new RegExp(adapter));
    await expect(axios.delete(url)).rejects.toThrow(/adapter/);
  });

  it('the AWS SDK reads Node stream bodies without loading Node’s web streams, and still collects a web ReadableStream', async () => {
    const entry =
      "export { streamCollector } from '@smithy/core/serde';\nexport const loaded = () => process.moduleLoadList.filter((name) => name.includes('webstreams'));\n";
    await bundle({ contents: entry }, join(workDir, 'sdk-streams-out'), { sourcemap: false });
    const script = [
      `const { streamCollector, loaded } = await import(${JSON.stringify(pathToFileURL(join(workDir, 'sdk-streams-out/stdin.mjs')).href)});`,
      "const { Readable } = process.getBuiltinModule('node:stream');",
      "const fromNode = Buffer.from(await streamCollector(Readable.from([Buffer.from('node ')]))).toString();",
      'const before = loaded();',
      "const fromWeb = Buffer.from(await streamCollector(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('web')); c.close(); } }))).toString();",
      'console.log(JSON.stringify({ text: fromNode + fromWeb, before }));',
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
    expect(JSON.parse(stdout)).toEqual({ text: 'node web', before: [] });
  });
});

describe('Powertools, as bundled', () => {
  it('reads AWS_LAMBDA_MAX_CONCURRENCY once per process, and still honours it', async () => {
    // What the functions do per job: a Logger line with appended keys, and a metric flushed.
    const entry = [
      "import { Logger } from '@aws-lambda-powertools/logger';",
      "import { Metrics } from '@aws-lambda-powertools/metrics';",
      'export const logAndPublish = (count) => {',
      '  const logger = new Logger({ serviceName: "t" });',
      '  const metrics = new Metrics({ serviceName: "t", namespace: "n" });',
      '  for (let i = 0; i < count; i++) {',
      '    logger.appendKeys({ source: "crm" });',
      '    logger.setCorrelationId(`evt-${i}`);',
      '    logger.info("job untagged", { i });',
      '    logger.resetKeys();',
      '    metrics.addMetric("JobsUntagged", "Count", 1);',
      '    metrics.publishStoredMetrics();',
      '  }',
      '};',
    ].join('\n');
    await bundle({ contents: entry }, join(workDir, 'powertools-out'), { sourcemap: false });
    // Counts the reads of the variable through a process.env proxy, in a process of its own.
    const script = (maxConcurrency: string) =>
      [
        `process.env.AWS_LAMBDA_MAX_CONCURRENCY = ${JSON.stringify(maxConcurrency)};`,
        'let reads = 0;',
        "process.env = new Proxy(process.env, { get(target, key) { if (key === 'AWS_LAMBDA_MAX_CONCURRENCY') reads++; return target[key]; } });",
        // An invoke store outside any invocation, as the runtime provides when it runs invocations concurrently.
        "globalThis.awslambda = { InvokeStore: new Proxy({}, { get: (_, name) => (name === 'hasContext' ? () => false : () => undefined) }) };",
        `const { logAndPublish } = await import(${JSON.stringify(pathToFileURL(join(workDir, 'powertools-out/stdin.mjs')).href)});`,
        'logAndPublish(50);',
        // The log lines and EMF documents go to stdout: the count goes to stderr.
        'process.stderr.write(JSON.stringify({ reads }));',
      ].join('\n');
    const readsWith = async (value: string) =>
      JSON.parse((await run(process.execPath, ['--input-type=module', '-e', script(value)])).stderr) as {
        reads: number;
      };
    expect(await readsWith('')).toEqual({ reads: 1 });
    // Set, the invoke store is consulted (once): the answer is cached, not ignored.
    expect(await readsWith('4')).toEqual({ reads: 1 });
  });
});

describe('tooling/esbuild-config.cjs', () => {
  it('gives serverless-esbuild the same options and plugins, with ES module output and nothing left out', () => {
    const config = (require('../tooling/esbuild-config.cjs') as () => Record<string, unknown>)();
    const { plugins, outputFileExtension, exclude, ...options } = config;
    expect(options).toEqual(lambdaBuildOptions);
    expect((plugins as { name: string }[]).map((plugin) => plugin.name)).toEqual(
      lambdaEsbuildPlugins().map((plugin) => plugin.name),
    );
    expect(outputFileExtension).toBe('.mjs');
    expect(exclude).toEqual([]);
  });
});
