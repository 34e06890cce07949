/**
 * Turns the parsed rules.yml (plain data) into a RulesConfig, or throws one InvalidRulesError
 * listing every problem. Runs at build time (esbuild/Vite plugins, check-rules, serverless
 * resolver), so a broken rules.yml never deploys. Hand-written rather than a schema library so
 * the messages name the rule and the field a person has to fix; rules.schema.json describes the
 * same shape for editors (tests keep the two in step).
 */
import { ConfigError } from '../../lib/errors';
import type { RuleConfig, RulesConfig } from '../../lib/rules/types';
import { readLookups } from './lookups';
import { isRecord } from '../../lib/json';
import { checkKeys, didYouMean, Findings } from './report';
import { readRule } from './rule';
import { readEventSources, readSources } from './sources';

/** Every problem found in one rules config; the message lists them one per line. */
export class InvalidRulesError extends ConfigError {
  constructor(
    readonly problems: string[],
    /** What was validated, e.g. the file name; starts the message. */
    origin = 'rules config',
  ) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`${origin} is invalid (${count}):\n${problems.map((p) => `  - ${p}`).join('\n')}`, 'invalid_rules');
  }
}

export const TOP_KEYS = ['sources', 'eventSources', 'lookups', 'rules'] as const;

export interface ValidatedRules {
  config: RulesConfig;
  /** Accepted but worth changing, e.g. an old key name. */
  warnings: string[];
}

export function validateRulesConfig(raw: unknown): RulesConfig {
  return validateRules(raw).config;
}

export function validateRules(raw: unknown): ValidatedRules {
  const findings = new Findings();
  if (!isRecord(raw))
    throw new InvalidRulesError([
      'top level: must be a mapping with `rules` (and `sources`, `eventSources`, `lookups`)',
    ]);
  const top = findings.at('top level');
  checkKeys(raw, TOP_KEYS, top);

  const sources = readSources(raw.sources, top, findings);
  const eventSources = readEventSources(raw.eventSources, top, findings);
  const lookups = readLookups(raw.lookups, top, findings);
  for (const name of Object.keys(sources)) {
    if (Object.hasOwn(eventSources, name))
      findings.at(`eventSources.${name}`).add('', 'is also a webhook source under `sources`: give each name once');
  }

  const rules: RuleConfig[] = [];
  // Counted from the raw rules, so a rule with other problems still marks its names used.
  const used = { sources: new Set<unknown>(), lookups: new Set<unknown>() };
  if (!Array.isArray(raw.rules) || raw.rules.length === 0) {
    top.add('rules', 'must be a list with at least one rule');
  } else {
    const firstIndexByName = new Map<string, number>();
    raw.rules.forEach((item, index) => {
      const name = isRecord(item) && typeof item.name === 'string' ? item.name : undefined;
      const report = findings.at(name ? `rules[${index}] "${name}"` : `rules[${index}]`);
      if (isRecord(item)) {
        for (const source of [item.source].flat()) used.sources.add(source);
        if (isRecord(item.customer)) used.lookups.add(item.customer.lookup);
      }
      if (name !== undefined && firstIndexByName.has(name))
        report.add('name', `duplicate of rules[${firstIndexByName.get(name)}]`);
      else if (name !== undefined) firstIndexByName.set(name, index);

      const rule = readRule(item, report);
      if (!rule) return;
      const before = report.count;
      for (const source of rule.source) {
        if (Object.hasOwn(sources, source) || Object.hasOwn(eventSources, source)) continue;
        const near = didYouMean(source, [...Object.keys(sources), ...Object.keys(eventSources)]);
        report.add(
          'source',
          `"${source}" is neither a webhook source (sources) nor an EventBridge source (eventSources)${near ? `: did you mean ${near}?` : ': declare it in one of them'}`,
        );
      }
      if (rule.eventType) {
        const untyped = rule.source.filter((source) => Object.hasOwn(sources, source) && !sources[source]!.eventType);
        if (untyped.length > 0)
          report.add(
            'eventType',
            `source ${untyped.join(', ')} has no event type: set sources.${untyped[0]}.eventType`,
          );
      }
      if (rule.customer.by === 'lookup' && !Object.hasOwn(lookups, rule.customer.lookup)) {
        const near = didYouMean(rule.customer.lookup, Object.keys(lookups));
        report.add(
          'customer.lookup',
          `"${rule.customer.lookup}" is not defined under lookups${near ? ` (did you mean ${near}?)` : ''}`,
        );
      }
      if (report.count === before) rules.push(rule);
    });
  }

  // A source no rule uses is almost always a typo in a rule's `source`.
  for (const name of Object.keys(sources))
    if (!used.sources.has(name)) findings.at(`sources.${name}`).add('', 'not used by any rule');
  for (const name of Object.keys(eventSources))
    if (!used.sources.has(name)) findings.at(`eventSources.${name}`).add('', 'not used by any rule');
  for (const name of Object.keys(lookups))
    if (!used.lookups.has(name)) findings.at(`lookups.${name}`).warn('', 'not used by any rule');
  reportConflicts(rules, findings);

  if (findings.problems.length > 0) throw new InvalidRulesError(findings.problems);
  return { config: { sources, eventSources, lookups, rules }, warnings: findings.warnings };
}

/**
 * Two unconditional rules for the same events where one removes a tag the other adds would undo
 * each other on every event: almost surely a mistake. Conditional ones are settled per event
 * (the tag is left alone, the outcome says conflicting_rules).
 */
function reportConflicts(rules: RuleConfig[], findings: Findings): void {
  const overlaps = (a: string[] | undefined, b: string[] | undefined) => !a || !b || a.some((item) => b.includes(item));
  rules.forEach((remover, i) => {
    rules.forEach((adder, j) => {
      if (i === j || remover.when !== undefined || adder.when !== undefined) return;
      if (!overlaps(remover.source, adder.source) || !overlaps(remover.eventType, adder.eventType)) return;
      for (const tag of remover.removeTags.filter((name) => adder.addTags.includes(name))) {
        findings
          .at(`rules "${remover.name}" and "${adder.name}"`)
          .add(
            '',
            `"${remover.name}" removes "${tag}" and "${adder.name}" adds it for the same events (same source, no condition): one undoes the other`,
          );
      }
    });
  });
}
