/**
 * The esbuild options of every Lambda bundle, in one place: serverless-esbuild reads them through
 * tooling/esbuild-config.cjs (serverless.yml `custom.esbuild.config`) and the benchmark builds
 * with them directly, so what is measured is what is deployed. The README's "Performance"
 * section has the figures behind each choice (`npm run bench` measures them).
 */
import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { basename, extname } from 'node:path';
import type { BuildOptions, Plugin } from 'esbuild';
import { rulesEsbuildPlugin, rulesFilePlugin } from './rules-esbuild-plugin';

/**
 * axios as this function uses it: every instance sends through lib/http/transport.ts
 * (node:http, keep-alive, JSON). What axios carries for other uses costs every cold start:
 *  - its own Node adapter, with follow-redirects, proxy-from-env, http2 sessions and zlib
 *    streams: ~50 KB, and Node's http2 module loaded at import (~5 ms);
 *  - its XHR adapter (browsers only) and its fetch adapter, which builds throwaway Request and
 *    ReadableStream objects to probe the runtime's fetch;
 *  - the `form-data` package (and with it mime-types and mime-db, ~140 KB of JSON) for multipart;
 *  - its utils read globalThis.FormData; that and the fetch probing each make Node load its
 *    whole fetch implementation (undici), tens of milliseconds.
 * So its three adapters report themselves unavailable, as axios does where a runtime lacks one
 * (an instance given no adapter fails with axios's own "not available" error), `form-data`
 * becomes "none", and the FormData check keeps axios's own duck-typing test, which a real
 * FormData passes. tests/bench-build.test.ts checks axios still sends through the project's adapter.
 */
export function nodeOnlyAxiosPlugin(): Plugin {
  const namespace = 'node-only-axios';
  const eagerFormData = "typeof G.FormData !== 'undefined' ? G.FormData : undefined";
  return {
    name: namespace,
    setup(build) {
      build.onResolve({ filter: /^form-data$/ }, () => ({ path: 'form-data', namespace }));
      build.onLoad({ filter: /.*/, namespace }, () => ({ contents: 'export default undefined;\n', loader: 'js' }));
      build.onLoad({ filter: /[\\/]axios[\\/]lib[\\/]adapters[\\/](http|xhr)\.js$/ }, () => ({
        contents: 'export default false;\n',
        loader: 'js',
      }));
      build.onLoad({ filter: /[\\/]axios[\\/]lib[\\/]adapters[\\/]fetch\.js$/ }, () => ({
        contents: 'export const getFetch = () => false;\nexport default false;\n',
        loader: 'js',
      }));
      build.onLoad({ filter: /[\\/]axios[\\/]lib[\\/]utils\.js$/ }, async ({ path }) => {
        const source = await readFile(path, 'utf8');
        if (!source.includes(eagerFormData)) {
          return {
            warnings: [
              { text: 'axios/lib/utils.js changed: globalThis.FormData is read at import again (Node loads undici)' },
            ],
          };
        }
        return { contents: source.replace(eagerFormData, 'undefined'), loader: 'js' };
      });
    },
  };
}

/**
 * The AWS SDK reads every answer's body through a stream collector that first asks whether the
 * body is a web ReadableStream. Node's `ReadableStream` global is lazy: touching it loads Node's
 * web streams on the first AWS call of every container, for bodies that are Node streams here.
 * The check stays, behind a test for the getReader() every web ReadableStream has: its answers
 * are unchanged, and a Node stream never reaches the global.
 */
export function lazyWebStreamsPlugin(): Plugin {
  const eagerCheck = 'const isReadableStream = (stream) => typeof ReadableStream === "function" &&';
  return {
    name: 'lazy-web-streams',
    setup(build) {
      build.onLoad({ filter: /[\\/]util-stream[\\/]stream-type-check\.js$/ }, async ({ path }) => {
        const source = await readFile(path, 'utf8');
        if (!source.includes(eagerCheck)) {
          return {
            warnings: [{ text: `${path} changed: the SDK may load Node's web streams on its first call again` }],
          };
        }
        const guarded =
          'const isReadableStream = (stream) => typeof stream?.getReader === "function" && typeof ReadableStream === "function" &&';
        return { contents: source.replace(eagerCheck, guarded), loader: 'js' };
      });
    },
  };
}

/**
 * Powertools Logger and Metrics ask, on every read of invocation-scoped state (~26 for a job: its
 * log line with the invocation's keys, one metric and the flush), whether the runtime runs
 * invocations concurrently: a read of process.env.AWS_LAMBDA_MAX_CONCURRENCY, which Node serves
 * through a slow C++ getter. The runtime sets the variable before the process starts and never
 * changes it, so the answer is read once and kept (tests/bench-build.test.ts counts the reads).
 */
export function steadyInvokeStorePlugin(): Plugin {
  const perCall =
    /const shouldUseInvokeStore = \(\) => \{\n(\s+)const res = getStringFromEnv\(\{\n\s+key: AWS_LAMBDA_MAX_CONCURRENCY,\n\s+defaultValue: '',\n\s+\}\);\n\s+return res !== '';\n\};/;
  return {
    name: 'steady-invoke-store',
    setup(build) {
      build.onLoad(
        { filter: /[\\/]@aws-lambda-powertools[\\/]commons[\\/]lib[\\/]esm[\\/]envUtils\.js$/ },
        async ({ path }) => {
          const source = await readFile(path, 'utf8');
          if (!perCall.test(source)) {
            return {
              warnings: [
                {
                  text: `${path} changed: Powertools may read AWS_LAMBDA_MAX_CONCURRENCY on every log line and metric again`,
                },
              ],
            };
          }
          const once =
            "let invokeStoreInUse;\nconst shouldUseInvokeStore = () => (invokeStoreInUse ??= getStringFromEnv({ key: AWS_LAMBDA_MAX_CONCURRENCY, defaultValue: '' }) !== '');";
          return { contents: source.replace(perCall, once), loader: 'js' };
        },
      );
    },
  };
}

/**
 * Node built-ins imported from ES modules are loaded through `require` instead. An ES module
 * import of a built-in reads every export of it to build the module namespace, getters included,
 * and on Node 24 some of those getters load whole subsystems: `http` has WebSocket, CloseEvent
 * and MessageEvent, which load Node's fetch implementation (undici), ~50 ms; `fs` its streams and
 * promises; `crypto` webcrypto. Through require() a getter runs only when the code reads it:
 * each built-in becomes a CommonJS module re-exporting it, whose named imports esbuild reads off
 * the module object where they are used. Static and dynamic imports alike (the AWS SDK imports
 * `node:http` on its first plain-http request).
 */
export function builtinsThroughRequirePlugin(): Plugin {
  const namespace = 'node-builtin';
  const builtins = new Set(builtinModules.filter((name) => !name.startsWith('_')));
  return {
    name: 'builtins-through-require',
    setup(build) {
      build.onResolve({ filter: /^(node:)?[a-z][a-z0-9_/]*$/ }, ({ path, kind }) => {
        const name = path.replace(/^node:/, '');
        if ((kind !== 'import-statement' && kind !== 'dynamic-import') || !builtins.has(name)) return undefined;
        return { path: name, namespace };
      });
      build.onLoad({ filter: /.*/, namespace }, ({ path }) => ({
        contents: `module.exports = require('node:${path}');\n`,
        loader: 'js',
      }));
    },
  };
}

/**
 * Code splitting moves what the AWS SDK only reaches through `await import()` (the SSO, profile,
 * process, web-identity, container and instance credential providers with their STS/SSO clients,
 * event streams) into chunks loaded when first used. Lambda hands the function its credentials
 * in environment variables, which the SDK reads first, so those chunks never load there.
 * Each handler's chunks go in a folder named after it (functions/webhook.chunks/): serverless-esbuild
 * leaves files named after other handlers out of an artifact, so each zip holds only its own.
 */
export function chunksBesideEntryPlugin(): Plugin {
  return {
    name: 'chunks-beside-entry',
    setup(build) {
      const { entryPoints } = build.initialOptions;
      const entries = Array.isArray(entryPoints) ? entryPoints : Object.values(entryPoints ?? {});
      const [entry] = entries;
      if (entries.length !== 1 || entry === undefined) return;
      const path = typeof entry === 'string' ? entry : entry.in;
      build.initialOptions.chunkNames = `${basename(path, extname(path))}.chunks/[name]-[hash]`;
    },
  };
}

/** The plugins of every Lambda bundle; `rulesFile` bundles another rules file in place of rules.yml. */
export function lambdaEsbuildPlugins({ rulesFile }: { rulesFile?: string } = {}): Plugin[] {
  return [
    ...(rulesFile ? [rulesFilePlugin(rulesFile)] : []),
    rulesEsbuildPlugin(),
    nodeOnlyAxiosPlugin(),
    lazyWebStreamsPlugin(),
    steadyInvokeStorePlugin(),
    builtinsThroughRequirePlugin(),
    chunksBesideEntryPlugin(),
  ];
}

/** Everything but entry points, output location and plugins. */
export const lambdaBuildOptions = {
  bundle: true,
  minify: true,
  // Stack traces in Lambda map back to the TypeScript (NODE_OPTIONS=--enable-source-maps). Only
  // the mappings are needed for that: without the sources' text the maps are a third the size,
  // and Node reads and parses the map of every module it loads.
  sourcemap: true,
  sourcesContent: false,
  target: 'node24',
  platform: 'node',
  format: 'esm',
  splitting: true,
  // Prefer each package's ES module build: CommonJS cannot be tree-shaken, and a package reached
  // both ways (the AWS SDK's dist-cjs and dist-es) would be bundled twice.
  mainFields: ['module', 'main'],
  // Some CommonJS dependencies require() Node built-ins, which an ES module bundle has to provide.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
} as const satisfies BuildOptions;
