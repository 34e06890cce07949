/**
 * `npm run test:rules [-- <file.test.yml>]`: runs one rule-test file (default rules.test.yml)
 * against the rules beside it (x.test.yml -> x.yml), e.g. an example's:
 *   npm run test:rules -- examples/stripe-customer-subscription-deleted/rules.test.yml
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const testFile = resolve(process.argv[2] ?? 'rules.test.yml');
if (!existsSync(testFile)) {
  console.error(`No rule tests at ${testFile}: write cases for your rules there (README, "Rule tests").`);
  process.exit(1);
}
const vitest = ['node_modules/vitest/vitest.mjs', 'run', 'tests/user-rules.test.ts'];
const run = spawnSync(process.execPath, vitest, { stdio: 'inherit', env: { ...process.env, RULE_TESTS: testFile } });
process.exitCode = run.status ?? 1;
