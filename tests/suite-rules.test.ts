/** The suite's own rules (tests/fixtures/rules/suite.yml) against their rule tests: fixtures that agree with each other. */
import { join } from 'node:path';
import { ruleTestSuite } from '../local/rule-tests/suite';

const fixtures = join(import.meta.dirname, 'fixtures/rules');
ruleTestSuite(join(fixtures, 'suite.test.yml'), join(fixtures, 'suite.yml'));
