/**
 * `npm run check-rules [-- file]`: validates a rules file (default ./rules.yml) and prints a
 * one-line summary with its fingerprint and any warnings, or the problems and exit code 1. Part
 * of `npm run build`.
 */
import { existsSync } from 'node:fs';
import { compileRules } from '../lib/rules/match';
import { loadRuleTests, ruleTestsFileFor, writtenForOtherRules } from '../local/rule-tests/cases';
import { loadRules, rulesFingerprint } from '../tooling/rules/load';

const file = process.argv[2] ?? 'rules.yml';
try {
  const { config, warnings } = loadRules(file);
  const patterns = compileRules(config).eventBridgePatterns();
  const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  const size = (items: object) => Object.keys(items).length;
  console.log(
    `${file} OK: ${count(config.rules.length, 'rule')}, ${count(size(config.sources), 'webhook source')}, ` +
      `${count(size(config.eventSources), 'EventBridge source')} (${count(patterns.length, 'EventBridge rule')}), ${count(size(config.lookups), 'lookup')}; ` +
      `fingerprint ${rulesFingerprint(file)}`,
  );
  for (const warning of warnings) console.warn(`warning: ${warning}`);
  const testsFile = ruleTestsFileFor(file);
  const otherRules = existsSync(testsFile) ? writtenForOtherRules(loadRuleTests(testsFile), file) : undefined;
  if (otherRules) console.warn(`warning: ${otherRules}`);
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
