/**
 * The deployed rules: rules.yml, validated and turned into JSON at build time by the
 * esbuild/Vite plugins (tooling/rules-esbuild-plugin.ts, tooling/rules-vite-plugin.ts).
 */
import rulesConfig from '../../rules.yml';
import { compileRules, type RuleSet } from './match';

export const bundledRules: RuleSet = compileRules(rulesConfig);
