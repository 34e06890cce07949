/**
 * esbuild plugin: `import rules from '../scripts/rules.yml'` becomes the validated RulesConfig as JSON,
 * so neither `yaml` nor the validator reaches the bundle, and an invalid file fails the build
 * with the validation message. For programmatic esbuild.build(); serverless-esbuild loads it
 * through tooling/rules-esbuild-plugins.cjs.
 */
import { resolve } from 'node:path';
import type { Plugin } from 'esbuild';
import { rulesModuleSource } from './rules/load';

export function rulesEsbuildPlugin(): Plugin {
  return {
    name: 'rules-yml',
    setup(build) {
      build.onLoad({ filter: /\.ya?ml$/, namespace: 'file' }, (args) => {
        // watchFiles either way, so a watch build retries once the file is fixed.
        try {
          return { contents: rulesModuleSource(args.path), loader: 'js', watchFiles: [args.path] };
        } catch (error) {
          return { errors: [{ text: (error as Error).message }], watchFiles: [args.path] };
        }
      });
    },
  };
}

/**
 * Bundles `rulesFile` wherever the code imports rules.yml: the local host and the benchmark run
 * the functions with other rules (an example's, the benchmark's) exactly as they would deploy.
 */
export function rulesFilePlugin(rulesFile: string): Plugin {
  return {
    name: 'rules-file',
    setup(build) {
      build.onResolve({ filter: /(^|[\\/])rules\.ya?ml$/ }, () => ({ path: resolve(rulesFile) }));
    },
  };
}
