/**
 * Turns the parsed rules.yml (plain data) into a RulesConfig, or throws one InvalidRulesError
 * listing every problem. Runs at build time (esbuild/Vite plugins, check-rules, serverless
 * resolver), so a broken rules.yml never deploys. The shape is lib/rules/shape.ts's (checked by
 * ajv, tooling/rules/structure.ts); here is what a schema cannot say: JMESPath syntax, references
 * between sections, unused entries, conflicting rules, old key names. Every problem names the
 * entity and the field a person has to fix.
 */
import { ConfigError } from '../../lib/errors';
import { isRecord } from '../../lib/json';
import { schemeNames } from '../../lib/rules/shape';
import type { RuleConfig, RulesConfig } from '../../lib/rules/types';
import { checkLookup, toLookup } from './lookups';
import { didYouMean, Findings, quoted, type Report } from './report';
import { checkRule, toRule } from './rule';
import { checkSource, toEventSource, toSource } from './sources';
import { checkStructure, type Placement } from './structure';

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

export interface ValidatedRules {
  config: RulesConfig;
  /** Accepted but worth changing, e.g. an old key name. */
  warnings: string[];
}

const SECTIONS = ['sources', 'eventSources', 'lookups'] as const;
type Section = (typeof SECTIONS)[number];

export function validateRulesConfig(raw: unknown): RulesConfig {
  return validateRules(raw).config;
}

export function validateRules(raw: unknown): ValidatedRules {
  const findings = new Findings();
  const place = placement(raw, findings);
  checkStructure(raw, place);
  if (!isRecord(raw)) throw new InvalidRulesError(findings.problems);

  const entries = (section: Section) => (isRecord(raw[section]) ? Object.entries(raw[section]) : []);
  for (const [name, source] of entries('sources')) checkSource(source, place(['sources', name]).report);
  for (const [name, lookup] of entries('lookups')) checkLookup(lookup, place(['lookups', name]).report);
  for (const [name] of entries('eventSources')) {
    if (isRecord(raw.sources) && Object.hasOwn(raw.sources, name))
      place(['eventSources', name]).report.add('', 'is also a webhook source under `sources`: give each name once');
  }
  const rules = Array.isArray(raw.rules) ? raw.rules : [];
  rules.forEach((rule, index) => {
    checkRule(rule, place(['rules', String(index)]).report);
  });
  checkRuleNames(rules, place);

  // References are checked from rules that are otherwise valid: a broken rule's are unreliable.
  rules.forEach((rule, index) => {
    const { report } = place(['rules', String(index)]);
    if (report.count === 0) checkReferences(raw, rule as Record<string, unknown>, report);
  });
  checkUnused(raw, rules, place);
  const config =
    findings.problems.length === 0
      ? {
          sources: mapEntries(entries('sources'), (source) => toSource(source as Record<string, unknown>)),
          eventSources: mapEntries(entries('eventSources'), (entry) =>
            toEventSource(entry as Record<string, unknown> | null),
          ),
          lookups: mapEntries(entries('lookups'), (lookup) => toLookup(lookup as Record<string, unknown>)),
          rules: rules.map((rule) => toRule(rule as Record<string, unknown>)),
        }
      : undefined;
  if (config) reportConflicts(config.rules, findings);
  if (!config || findings.problems.length > 0) throw new InvalidRulesError(findings.problems);
  return { config, warnings: findings.warnings };
}

/**
 * Where a path of the document reports: `top level`, `sources.<name>`, `rules[<i>] "<name>"`, …, and
 * the field below it; entities are ranked in file order so problems list that way.
 */
function placement(raw: unknown, findings: Findings): Placement {
  const data = isRecord(raw) ? raw : {};
  return ([section, key, ...rest]) => {
    if (section === undefined || key === undefined)
      return { report: findings.at('top level', 0), rest: section === undefined ? [] : [section] };
    if (section === 'rules') {
      const index = Number(key);
      const rule = Array.isArray(data.rules) ? data.rules[index] : undefined;
      const name = isRecord(rule) && typeof rule.name === 'string' ? rule.name : undefined;
      return { report: findings.at(name ? `rules[${index}] ${quoted(name)}` : `rules[${index}]`, 4e6 + index), rest };
    }
    const names = isRecord(data[section]) ? Object.keys(data[section]) : [];
    const rank = (SECTIONS.indexOf(section as Section) + 1) * 1e6 + Math.max(names.indexOf(key), 0);
    return { report: findings.at(`${section}.${key}`, rank), rest };
  };
}

/** Rule names are unique: they name the rule in logs, metrics and replies. */
function checkRuleNames(rules: unknown[], place: Placement): void {
  const first = new Map<unknown, number>();
  rules.forEach((rule, index) => {
    if (!isRecord(rule) || typeof rule.name !== 'string') return;
    if (first.has(rule.name))
      place(['rules', String(index)]).report.add('name', `duplicate of rules[${first.get(rule.name)}]`);
    else first.set(rule.name, index);
  });
}

/** A rule's sources exist, its event types have somewhere to come from, its lookup is defined. */
function checkReferences(raw: Record<string, unknown>, rule: Record<string, unknown>, report: Report): void {
  const sources = (raw.sources ?? {}) as Record<string, Record<string, unknown>>;
  const eventSources = (raw.eventSources ?? {}) as Record<string, unknown>;
  const lookups = (raw.lookups ?? {}) as Record<string, unknown>;
  const names = [rule.source as string | string[]].flat();
  for (const source of names) {
    if (Object.hasOwn(sources, source) || Object.hasOwn(eventSources, source)) continue;
    const near = didYouMean(source, [...Object.keys(sources), ...Object.keys(eventSources)]);
    report.add(
      'source',
      `${quoted(source)} is neither a webhook source (sources) nor an EventBridge source (eventSources)${near ? `: did you mean ${near}?` : ': declare it in one of them'}`,
    );
  }
  if (rule.eventType !== undefined || rule.detailType !== undefined) {
    const untyped = names.filter((source) => Object.hasOwn(sources, source) && !typed(sources[source]!));
    if (untyped.length > 0)
      report.add('eventType', `source ${untyped.join(', ')} has no event type: set sources.${untyped[0]}.eventType`);
  }
  const lookup = (rule.customer as Record<string, unknown>).lookup;
  if (typeof lookup === 'string' && !Object.hasOwn(lookups, lookup)) {
    const near = didYouMean(lookup, Object.keys(lookups));
    report.add(
      'customer.lookup',
      `${quoted(lookup)} is not defined under lookups${near ? ` (did you mean ${near}?)` : ''}`,
    );
  }
}

const SCHEME_NAMES = schemeNames();

/** Whether a source has an event type: its own, or its scheme's. */
function typed(source: Record<string, unknown>): boolean {
  const scheme = isRecord(source.verify) ? SCHEME_NAMES.get(source.verify.scheme as string) : undefined;
  return source.eventType !== undefined || scheme?.scheme.event.type !== undefined;
}

/**
 * A source no rule uses is almost always a typo in a rule's `source`. Counted from the raw rules,
 * so a rule with other problems still marks its names used.
 */
function checkUnused(raw: Record<string, unknown>, rules: unknown[], place: Placement): void {
  const used = { sources: new Set<unknown>(), lookups: new Set<unknown>() };
  for (const rule of rules) {
    if (!isRecord(rule)) continue;
    for (const source of [rule.source].flat()) used.sources.add(source);
    if (isRecord(rule.customer)) used.lookups.add(rule.customer.lookup);
  }
  for (const section of ['sources', 'eventSources'] as const) {
    if (!isRecord(raw[section])) continue;
    for (const name of Object.keys(raw[section])) {
      if (!used.sources.has(name)) place([section, name]).report.add('', 'not used by any rule');
    }
  }
  if (isRecord(raw.lookups)) {
    for (const name of Object.keys(raw.lookups)) {
      if (!used.lookups.has(name)) place(['lookups', name]).report.warn('', 'not used by any rule');
    }
  }
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
          .at(`rules ${quoted(remover.name)} and ${quoted(adder.name)}`)
          .add(
            '',
            `${quoted(remover.name)} removes ${quoted(tag)} and ${quoted(adder.name)} adds it for the same events (same source, no condition): one undoes the other`,
          );
      }
    });
  });
}

function mapEntries<T>(entries: [string, unknown][], map: (entry: unknown) => T): Record<string, T> {
  return Object.fromEntries(entries.map(([name, entry]) => [name, map(entry)]));
}
