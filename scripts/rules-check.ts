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
  const count = (items: object, noun: string) => `${Object.keys(items).length} ${noun}`;
  console.log(
    `${file} OK: ${config.rules.length} rules, ${count(config.sources, 'webhook sources')}, ${count(config.eventSources, 'EventBridge sources')} ` +
      `(${patterns.length} EventBridge rules), ${count(config.lookups, 'lookups')}`,
  );
  for (const warning of warnings) console.warn(`warning: ${warning}`);
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
