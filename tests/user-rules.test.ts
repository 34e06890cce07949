/**
 * The project's own rules.yml, tested by its rule tests in rules.test.yml (`npm run test:rules`
 * runs only this file, or with RULE_TESTS another test file against the rules beside it). The one
 * test file that reads the user's rules: everything else in the suite uses fixture rules.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'vitest';
import { rulesFileFor } from '../local/rule-tests/cases';
import { ruleTestSuite } from '../local/rule-tests/suite';

const testFile = process.env.RULE_TESTS ?? join(import.meta.dirname, '..', 'rules.test.yml');

if (existsSync(testFile)) ruleTestSuite(testFile, rulesFileFor(testFile));
else it.skip('rules.test.yml: no rule tests yet (README, "Rule tests")');
