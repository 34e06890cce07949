/**
 * `tsx scripts/rules-check.ts [file]`: validates a rules file (default ./rules.yml) and prints a
 * one-line summary, or the problems and exit code 1. Part of `npm run build`.
 */
import { loadRulesFile } from '../tooling/rules/load';
import { compileRules } from '../lib/rules/match';

const file = process.argv[2] ?? 'rules.yml';
try {
  const config = loadRulesFile(file);
  const patterns = compileRules(config).eventBridgePatterns();
  console.log(
    `${file} OK: ${config.rules.length} rules, ${Object.keys(config.sources).length} webhook sources, ` +
      `${patterns.length} EventBridge patterns`,
  );
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
