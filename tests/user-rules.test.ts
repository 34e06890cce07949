/**
 * The project's own rules.yml, tested by its rule tests in rules.test.yml (npm run test:rules runs
 * only this file). The one test file that reads the user's rules: everything else in the suite
 * uses fixture rules.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'vitest';
import { ruleTestSuite } from '../local/rule-tests/suite';

const root = join(import.meta.dirname, '..');
const testFile = join(root, 'rules.test.yml');

if (existsSync(testFile)) ruleTestSuite(testFile, join(root, 'rules.yml'));
else it.skip('rules.test.yml: no rule tests yet (README, "Rule tests")');
