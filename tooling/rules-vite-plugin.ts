/**
 * Vite/Vitest plugin: `import rules from '../../rules.yml'` becomes the validated RulesConfig as
 * JSON, exactly as in the esbuild build, and an invalid file fails the import with the message.
 * `replace` resolves imports of one file to another: the test suite runs the functions with its
 * own fixture rules instead of the project's rules.yml, which belongs to the user. (Resolved, not
 * loaded under the old name, so Vitest's cache follows the file that is really read.)
 */
import { dirname, resolve } from 'node:path';
import type { Plugin } from 'vitest/config';
import { rulesModuleSource } from './rules/load';

export function rulesVitePlugin(options: { replace?: { file: string; with: string } } = {}): Plugin {
  const replaced = options.replace && resolve(options.replace.file);
  return {
    name: 'rules-yml',
    enforce: 'pre',
    resolveId(source, importer) {
      if (!replaced || !importer || !/\.ya?ml$/.test(source)) return null;
      return resolve(dirname(importer), source) === replaced ? resolve(options.replace!.with) : null;
    },
    load(id) {
      const path = id.split('?')[0]!;
      return /\.ya?ml$/.test(path) ? rulesModuleSource(path) : null;
    },
  };
}
