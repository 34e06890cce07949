/**
 * Turns the parsed rules.yml (plain data) into a RulesConfig, or throws one InvalidRulesError
 * listing every problem. Runs at build time (esbuild/Vite plugins, rules-check, serverless
 * resolver), so a broken rules.yml never deploys. Hand-written rather than a schema library
 * so the messages can name the rule and the field a person has to fix.
 */
import { JMESPathError, JMESPathTypeError, search } from '@aws-lambda-powertools/jmespath';
import { ConfigError } from '../../lib/errors';
import type {
  CustomerSelector,
  RuleConfig,
  RulesConfig,
  WebhookSourceConfig,
} from '../../lib/rules/types';

import { checkKeys, isRecord, Report } from './report';
import { readVerify } from './verify';

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

const MAX_TAGS = 50;
const TOP_KEYS = ['sources', 'rules'] as const;
const SOURCE_KEYS = ['verify'] as const;
const RULE_KEYS = ['name', 'source', 'when', 'detailType', 'customer', 'removeTags'] as const;
const CUSTOMER_KEYS = ['id', 'email', 'userId'] as const;

/** A webhook source name is the last path segment of /webhooks/<name>. */
const SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._~-]*$/;
export function validateRulesConfig(raw: unknown): RulesConfig {
  const problems: string[] = [];
  const reportAt = (entity: string) => new Report(entity, problems);

  if (!isRecord(raw)) {
    throw new InvalidRulesError(['top level: must be a mapping with `sources` and `rules`']);
  }
  const top = reportAt('top level');
  checkKeys(raw, TOP_KEYS, top);

  const sources = readSources(raw.sources, top, reportAt);
  const webhookNames = new Set(Object.keys(sources));

  const rules: RuleConfig[] = [];
  // Counted from the raw rules, so a rule with other problems still marks its source used.
  const usedSources = new Set<unknown>();
  if (!Array.isArray(raw.rules) || raw.rules.length === 0) {
    top.add('rules', 'must be a list with at least one rule');
  } else {
    const firstIndexByName = new Map<string, number>();
    raw.rules.forEach((item, index) => {
      const name = isRecord(item) && typeof item.name === 'string' ? item.name : undefined;
      const report = reportAt(name ? `rules[${index}] "${name}"` : `rules[${index}]`);
      const rule = readRule(item, webhookNames, report);
      if (isRecord(item)) [item.source].flat().forEach((source) => usedSources.add(source));
      if (name !== undefined && firstIndexByName.has(name)) {
        report.add('name', `duplicate of rules[${firstIndexByName.get(name)}]`);
      } else if (name !== undefined) {
        firstIndexByName.set(name, index);
      }
      if (rule) rules.push(rule);
    });
  }

  // A webhook source no rule uses is almost always a typo in a rule's `source`, which would
  // otherwise silently turn that rule into an EventBridge rule.
  for (const name of webhookNames) {
    if (!usedSources.has(name)) reportAt(`sources.${name}`).add('', 'not used by any rule');
  }

  if (problems.length > 0) throw new InvalidRulesError(problems);
  return { sources, rules };
}

function readSources(
  raw: unknown,
  top: Report,
  reportAt: (entity: string) => Report,
): Record<string, WebhookSourceConfig> {
  const sources: Record<string, WebhookSourceConfig> = {};
  if (raw === undefined || raw === null) return sources; // EventBridge-only configs need no sources
  if (!isRecord(raw)) {
    top.add('sources', 'must be a mapping of source name to { verify }');
    return sources;
  }
  for (const [name, entry] of Object.entries(raw)) {
    const report = reportAt(`sources.${name}`);
    if (!SOURCE_NAME.test(name)) {
      report.add('', 'name must be letters, digits, ".", "_", "~" or "-" (it is the last segment of /webhooks/<name>)');
    }
    if (!isRecord(entry)) {
      report.add('', 'must be a mapping with `verify`');
      continue;
    }
    checkKeys(entry, SOURCE_KEYS, report);
    const verify = readVerify(entry.verify, report);
    if (verify) sources[name] = { verify };
  }
  return sources;
}

function readRule(raw: unknown, webhookNames: Set<string>, report: Report): RuleConfig | undefined {
  if (!isRecord(raw)) {
    report.add('', 'must be a mapping with name, source, customer and removeTags');
    return undefined;
  }
  const before = report.count;
  checkKeys(raw, RULE_KEYS, report);

  if (typeof raw.name !== 'string' || raw.name.trim() === '') report.add('name', 'is required (a non-empty string)');
  else if (raw.name !== raw.name.trim()) report.add('name', 'has leading or trailing whitespace');

  const source = readNameList(raw.source, 'source', report, { single: true });
  for (const name of source ?? []) {
    const near = [...webhookNames].find((w) => w !== name && w.toLowerCase() === name.toLowerCase());
    if (near) report.add('source', `"${name}" is not a webhook source (did you mean ${near}?)`);
  }

  const when = raw.when === undefined ? undefined : readExpression(raw.when, 'when', report);
  const customer = readCustomer(raw.customer, report);
  const removeTags = readNameList(raw.removeTags, 'removeTags', report, { single: false, max: MAX_TAGS });

  let detailType: string[] | undefined;
  if (raw.detailType !== undefined) {
    detailType = readNameList(raw.detailType, 'detailType', report, { single: true });
    const webhook = source?.filter((name) => webhookNames.has(name)) ?? [];
    if (webhook.length > 0) {
      report.add('detailType', `only applies to EventBridge sources, but ${webhook.join(', ')} is a webhook source`);
    }
  }

  if (report.count > before) return undefined;
  return {
    name: raw.name as string,
    source: source!,
    ...(when !== undefined && { when }),
    ...(detailType !== undefined && { detailType }),
    customer: customer!,
    removeTags: removeTags!,
  };
}

function readCustomer(raw: unknown, report: Report): CustomerSelector | undefined {
  const required = `exactly one of ${CUSTOMER_KEYS.join(' | ')} is required`;
  if (!isRecord(raw)) {
    report.add('customer', raw === undefined ? required : `must be a mapping: ${required}`);
    return undefined;
  }
  checkKeys(raw, CUSTOMER_KEYS, report, 'customer.');
  const given = CUSTOMER_KEYS.filter((key) => raw[key] !== undefined);
  if (given.length !== 1) {
    report.add('customer', given.length === 0 ? required : `${required}, got ${given.join(', ')}`);
    return undefined;
  }
  const key = given[0];
  const expression = readExpression(raw[key], `customer.${key}`, report);
  if (expression === undefined) return undefined;
  return { [key]: expression } as CustomerSelector;
}

/** A JMESPath expression that parses and calls known functions with the right number of arguments. */
function readExpression(raw: unknown, field: string, report: Report): string | undefined {
  if (typeof raw !== 'string' || raw.trim() === '') {
    report.add(field, 'must be a non-empty JMESPath expression');
    return undefined;
  }
  try {
    // The powertools package exports no standalone parser: evaluating against {} parses the
    // expression and checks the functions it reaches (names, argument counts).
    search(raw, {});
  } catch (error) {
    // A type error depends on the data ({} here has none), so it says nothing about the expression.
    if (error instanceof JMESPathTypeError) return raw;
    if (!(error instanceof JMESPathError)) throw error;
    report.add(field, `invalid JMESPath: ${error.message}`);
    return undefined;
  }
  return raw;
}

/**
 * A list of names (tags, sources, detail types): non-empty strings with no surrounding
 * whitespace (they are matched or sent exactly as written) and no duplicates.
 */
function readNameList(
  raw: unknown,
  field: string,
  report: Report,
  options: { single: boolean; max?: number },
): string[] | undefined {
  if (raw === undefined || raw === null) {
    report.add(field, 'is required');
    return undefined;
  }
  const list = typeof raw === 'string' && options.single ? [raw] : raw;
  if (!Array.isArray(list)) {
    report.add(field, options.single ? 'must be a string or a list of strings' : 'must be a list of strings');
    return undefined;
  }
  const before = report.count;
  if (list.length === 0) report.add(field, 'must not be empty');
  if (options.max !== undefined && list.length > options.max) {
    report.add(field, `at most ${options.max} entries, got ${list.length}`);
  }
  const seen = new Set<string>();
  list.forEach((item, index) => {
    const at = Array.isArray(raw) ? `${field}[${index}]` : field;
    if (typeof item !== 'string') {
      const hint = typeof item === 'number' || typeof item === 'boolean' ? ' (quote it in YAML)' : '';
      report.add(at, `must be a string${hint}`);
    } else if (item.trim() === '') {
      report.add(at, 'must not be empty');
    } else if (item !== item.trim()) {
      report.add(at, `"${item}" has leading or trailing whitespace (values are used exactly as written)`);
    } else if (seen.has(item)) {
      report.add(at, `duplicate "${item}"`);
    } else {
      seen.add(item);
    }
  });
  return report.count > before ? undefined : [...(list as string[])];
}

