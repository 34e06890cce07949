/**
 * esbuild plugin: `import rules from '../scripts/rules.yml'` becomes the validated RulesConfig as JSON,
 * so neither `yaml` nor the validator reaches the bundle, and an invalid file fails the build
 * with the validation message. For programmatic esbuild.build(); serverless-esbuild loads it
 * through tooling/rules-esbuild-plugins.cjs.
 */
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
