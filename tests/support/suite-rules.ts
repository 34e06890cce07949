/** The suite's own rules and their rule tests: what the local host runs in tests, never the project's rules.yml. */
import { join } from 'node:path';

export const SUITE_RULES = join(import.meta.dirname, '../fixtures/rules/suite.yml');
