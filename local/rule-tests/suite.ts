/**
 * A rules.test.yml as a vitest suite: one test per case, run against the functions bundled with
 * the rules it tests. A failing case shows the expected and the observed side by side, and the
 * job outcomes the functions logged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { displayName } from '../../tooling/rules/load';
import { loadRuleTests, writtenForOtherRules } from './cases';
import { startRuleTestRunner, type RuleTestRunner } from './runner';

export function ruleTestSuite(testFile: string, rulesFile: string): void {
  const file = loadRuleTests(testFile);
  const otherRules = writtenForOtherRules(file, rulesFile);
  if (otherRules) {
    console.warn(otherRules);
    it.skip(otherRules);
    return;
  }
  const { cases } = file;
  describe(`${displayName(testFile)} (rules: ${displayName(rulesFile)})`, () => {
    let runner: RuleTestRunner | undefined;
    beforeAll(async () => {
      runner = await startRuleTestRunner(rulesFile);
    }, 120_000);
    afterAll(() => runner?.close());

    for (const testCase of cases) {
      it(testCase.name, async () => {
        const { expected, actual, jobs, refused } = await runner!.run(testCase);
        const reply = refused ? `refused: ${refused}; ` : '';
        expect(actual, `${reply}job outcomes: ${JSON.stringify(jobs, null, 2)}`).toEqual(expected);
      });
    }
  });
}
