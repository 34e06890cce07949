/**
 * `npm run check-rules [-- file]`: validates a rules file (default ./rules.yml) and prints a
 * one-line summary and any warnings, or the problems and exit code 1. Part of `npm run build`.
 */
import { compileRules } from '../lib/rules/match';
import { loadRules } from '../tooling/rules/load';

const file = process.argv[2] ?? 'rules.yml';
try {
  const { config, warnings } = loadRules(file);
  const patterns = compileRules(config).eventBridgePatterns();
  const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  const size = (items: object) => Object.keys(items).length;
  console.log(
    `${file} OK: ${count(config.rules.length, 'rule')}, ${count(size(config.sources), 'webhook source')}, ` +
      `${count(size(config.eventSources), 'EventBridge source')} (${count(patterns.length, 'EventBridge rule')}), ${count(size(config.lookups), 'lookup')}`,
  );
  for (const warning of warnings) console.warn(`warning: ${warning}`);
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
