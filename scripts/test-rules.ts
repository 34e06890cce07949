/**
 * `npm run test:rules [-- <file.test.yml>]`: runs one rule-test file (default rules.test.yml)
 * against the rules beside it (x.test.yml -> x.yml), e.g. an example's:
 *   npm run test:rules -- examples/stripe-customer-subscription-deleted/rules.test.yml
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidRuleTestsError, loadRuleTests, rulesFileFor, writtenForOtherRules } from '../local/rule-tests/cases';

const testFile = resolve(process.argv[2] ?? 'rules.test.yml');
if (!existsSync(testFile)) {
  console.error(`No rule tests at ${testFile}: write cases for your rules there (README, "Rule tests").`);
  process.exit(1);
}

/** Why the suite skips the file, if it does; an invalid file is the suite's to report. */
function skippedBecause(): string | undefined {
  try {
    return writtenForOtherRules(loadRuleTests(testFile), rulesFileFor(testFile));
  } catch (error) {
    if (error instanceof InvalidRuleTestsError) return undefined;
    throw error;
  }
}

const vitest = ['node_modules/vitest/vitest.mjs', 'run', 'tests/user-rules.test.ts'];
const run = spawnSync(process.execPath, vitest, { stdio: 'inherit', env: { ...process.env, RULE_TESTS: testFile } });
// The report shows a skipped test's output only with --silent=false: say why here, after it.
const reason = skippedBecause();
if (reason) console.warn(reason);
process.exitCode = run.status ?? 1;
