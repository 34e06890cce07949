/**
 * Vite/Vitest plugin: `import rules from '../scripts/rules.yml'` becomes the validated RulesConfig as
 * JSON, exactly as in the esbuild build, and an invalid file fails the import with the message.
 */
import type { Plugin } from 'vitest/config';
import { rulesModuleSource } from './rules/load';

export function rulesVitePlugin(): Plugin {
  return {
    name: 'rules-yml',
    enforce: 'pre',
    load(id) {
      const path = id.split('?')[0];
      return /\.ya?ml$/.test(path) ? rulesModuleSource(path) : null;
    },
  };
}
