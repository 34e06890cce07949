/**
 * Vite/Vitest plugin: `import rules from '../../rules.yml'` becomes the validated RulesConfig as
 * JSON, exactly as in the esbuild build, and an invalid file fails the import with the message.
 * `replace` loads another file in place of one: the test suite runs the functions with its own
 * fixture rules instead of the project's rules.yml, which belongs to the user.
 */
import { resolve } from 'node:path';
import type { Plugin } from 'vitest/config';
import { rulesModuleSource } from './rules/load';

export function rulesVitePlugin(options: { replace?: { file: string; with: string } } = {}): Plugin {
  const replaced = options.replace && resolve(options.replace.file);
  return {
    name: 'rules-yml',
    enforce: 'pre',
    load(id) {
      const path = id.split('?')[0]!;
      if (!/\.ya?ml$/.test(path)) return null;
      return rulesModuleSource(path === replaced ? resolve(options.replace!.with) : path);
    },
  };
}
