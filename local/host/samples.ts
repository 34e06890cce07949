/**
 * The events `npm start` prints curl lines for and `npm run demo` sends: taken from the rule tests
 * beside the rules file (rules.yml -> rules.test.yml), the cases that change tags of the demo
 * customers, one per rule; so they work with whatever rules a user has. Without such cases for
 * these rules, one empty event per source shows how to reach it.
 */
import { existsSync } from 'node:fs';
import type { RulesConfig } from '../../lib/rules/types';
import { loadRuleTests, ruleTestsFileFor, writtenForOtherRules } from '../rule-tests/cases';
import type { OutgoingEvent } from './send-event';

export interface Sample extends OutgoingEvent {
  title: string;
}

export interface Samples {
  samples: Sample[];
  /** Whether they come from rule tests (else they are empty placeholders). */
  fromRuleTests: boolean;
}

export function loadSamples(rulesFile: string, rules: RulesConfig): Samples {
  const testsFile = ruleTestsFileFor(rulesFile);
  const ruleTests = existsSync(testsFile) ? loadRuleTests(testsFile) : undefined;
  if (!ruleTests || writtenForOtherRules(ruleTests, rulesFile))
    return { samples: placeholders(rules), fromRuleTests: false };
  const seen = new Set<string>();
  const samples = ruleTests.cases.flatMap(({ name, trigger, payload, customers, expect }): Sample[] => {
    // Demo customers only, signed, accepted, and changing tags.
    const rule = expect.rules?.[0];
    const accepted = expect.error === undefined && (expect.status ?? 200) < 300;
    const changes = (expect.removed?.length ?? 0) + (expect.added?.length ?? 0) > 0;
    if (!rule || seen.has(rule) || customers || !accepted || !changes || (trigger.kind === 'webhook' && !trigger.sign))
      return [];
    seen.add(rule);
    return [{ title: name, trigger, payload }];
  });
  // Rule tests whose cases all bring customers of their own give nothing to try on the demo customers.
  if (samples.length === 0) return { samples: placeholders(rules), fromRuleTests: false };
  return { samples, fromRuleTests: true };
}

/** One empty event per webhook source and EventBridge source: the shape of the request, for a real payload. */
function placeholders(rules: RulesConfig): Sample[] {
  const webhooks = Object.keys(rules.sources).map(
    (source): Sample => ({
      title: "an empty payload: put one of the sender's in",
      trigger: { kind: 'webhook', source, headers: {}, sign: true },
      payload: {},
    }),
  );
  const events = Object.keys(rules.eventSources).map((source): Sample => {
    const detailType = rules.rules.find((rule) => rule.source.includes(source))?.eventType?.[0] ?? 'Example';
    return {
      title: `an empty ${source} event: put a real detail in`,
      trigger: { kind: 'eventbridge', source, detailType },
      payload: {},
    };
  });
  return [...webhooks, ...events];
}
