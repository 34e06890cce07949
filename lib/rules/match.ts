/**
 * Runtime side of rules.yml: which rules apply to a payload and whom they name, and why a rule
 * did or did not apply (explain). Takes an already validated RulesConfig (bundled as JSON at
 * build time), so it carries no validator.
 */
import { JMESPathError } from '@aws-lambda-powertools/jmespath';
import { customerIdProblem, textReferenceProblem } from '../customer-refs';
import { BadEventError, UnknownSourceError } from '../errors';
import type { BusEvent } from '../triggers/bus-event';

import type { ReceivedWebhook } from '../triggers/webhook-payloads';
import type { CustomerRef, Job } from '../types';
import { evaluate } from './jmespath';
import { readSelector } from './selector';
import type {
  CustomerSelector,
  EventSelector,
  LookupConfig,
  RuleConfig,
  RulesConfig,
  WebhookSourceConfig,
} from './types';

/** What matching reads of an EventBridge event (its id plays no part). */
type MatchedBusEvent = Pick<BusEvent, 'source' | 'detailType' | 'detail'>;

/** One EventBridge rule to create: on `bus`, events of `source` (and of `detailType`, when given). */
export interface EventBridgePattern {
  source: string;
  bus: string;
  detailType?: string[];
}

/** Why one rule did or did not apply to one payload, check by check, for `--explain` and DEBUG logs. */
export interface RuleVerdict {
  rule: string;
  matched: boolean;
  /** The first check that failed, when one did. */
  failed?: 'eventType' | 'when' | 'customer';
  eventType?: { accepted: string[]; ok: boolean };
  when?: { expression: string; value: unknown; ok: boolean };
  customer?: { by: CustomerSelector['by']; expression: string; value: unknown };
  /** Why evaluating the rule failed: the event is refused as a whole (400) when this rule is matched. */
  error?: string;
}

export interface Explanation {
  source: string;
  /** null: the source has no event type, or this payload carries none. */
  eventType: string | null;
  /** Every rule of the source, in rules.yml order. */
  rules: RuleVerdict[];
}

/** How a payload is matched beyond what it carries itself. */
export interface WebhookMatchOptions {
  /**
   * The event type of a payload that yields none (its source has no eventType, or this payload
   * lacks it): a backfill's `--event-type` for export rows. Live webhooks never pass one.
   */
  fallbackEventType?: string;
}

export interface RuleSet {
  /** The webhook source named by /webhooks/<name>, or undefined when there is none. */
  webhookSource(name: string): WebhookSourceConfig | undefined;
  /** Jobs for one webhook payload. Throws BadEventError, UnknownSourceError. */
  matchWebhook(input: ReceivedWebhook, options?: WebhookMatchOptions): Job[];
  /** Jobs for one EventBridge event; its `detail` is the payload. Throws BadEventError. */
  matchEvent(event: MatchedBusEvent): Job[];
  explainWebhook(input: ReceivedWebhook, options?: WebhookMatchOptions): Explanation;
  explainEvent(event: MatchedBusEvent): Explanation;
  /** One pattern per EventBridge source, so each event reaches the function exactly once. */
  eventBridgePatterns(): EventBridgePattern[];
  /** The lookups, by name (a copy). */
  lookups(): Record<string, LookupConfig>;
  /** Every webhook source's signing secret id: what the webhook function reads. */
  signingSecretIds(): string[];
  /** Every lookup's secret id: what a function that resolves customers reads. */
  lookupSecretIds(): string[];
}

interface Judged {
  verdict: RuleVerdict;
  job?: Job;
  error?: BadEventError;
}

export function compileRules(config: RulesConfig): RuleSet {
  // Maps, not the config objects, so names like "__proto__" or "constructor" find nothing.
  const webhookSources = new Map(Object.entries(config.sources));
  const rulesBySource = new Map<string, RuleConfig[]>();
  for (const rule of config.rules) {
    for (const source of rule.source) rulesBySource.set(source, [...(rulesBySource.get(source) ?? []), rule]);
  }
  const patterns = toPatterns(config, rulesBySource);

  /** Only webhook sources: an EventBridge source name posted as a webhook would skip verification. */
  function webhookRules(
    { source, payload, headers }: ReceivedWebhook,
    { fallbackEventType }: WebhookMatchOptions = {},
  ) {
    const sourceConfig = webhookSources.get(source);
    if (!sourceConfig) throw new UnknownSourceError(source);
    const given = sourceConfig.eventType ? readEventType(sourceConfig.eventType, payload, headers) : null;
    const eventType = given ?? fallbackEventType ?? null;
    return { rules: rulesBySource.get(source) ?? [], payload, eventType };
  }

  function eventRules({ source, detailType, detail }: MatchedBusEvent) {
    const rules = Object.hasOwn(config.eventSources, source) ? (rulesBySource.get(source) ?? []) : [];
    return { rules, payload: detail ?? null, eventType: detailType };
  }

  function jobs({
    rules,
    payload,
    eventType,
  }: {
    rules: RuleConfig[];
    payload: unknown;
    eventType: string | null;
  }): Job[] {
    const result: Job[] = [];
    for (const rule of rules) {
      const { job, error } = judge(rule, payload, eventType);
      if (error) throw error;
      if (job) result.push(job);
    }
    return result;
  }

  function explain(
    source: string,
    { rules, payload, eventType }: { rules: RuleConfig[]; payload: unknown; eventType: string | null },
  ): Explanation {
    return { source, eventType, rules: rules.map((rule) => judge(rule, payload, eventType).verdict) };
  }

  return {
    webhookSource: (name) => webhookSources.get(name),
    matchWebhook: (input, options) => jobs(webhookRules(input, options)),
    matchEvent: (event) => jobs(eventRules(event)),
    explainWebhook: (input, options) => explain(input.source, webhookRules(input, options)),
    explainEvent: (event) => explain(event.source, eventRules(event)),
    eventBridgePatterns: () => patterns.map((pattern) => structuredClone(pattern)),
    lookups: () => structuredClone(config.lookups),
    signingSecretIds: () => [
      ...new Set(
        Object.values(config.sources).flatMap(({ verify }) => ('secretId' in verify ? [verify.secretId] : [])),
      ),
    ],
    lookupSecretIds: () => [...new Set(Object.values(config.lookups).map((lookup) => lookup.secretId))],
  };
}

/**
 * Rules for one source are merged into one pattern (union of event types, or none when any rule
 * takes every type): overlapping EventBridge rules would deliver an event twice.
 */
function toPatterns(config: RulesConfig, rulesBySource: Map<string, RuleConfig[]>): EventBridgePattern[] {
  return Object.entries(config.eventSources).map(([source, { bus }]) => {
    const rules = rulesBySource.get(source) ?? [];
    if (rules.some((rule) => !rule.eventType)) return { source, bus };
    return { source, bus, detailType: [...new Set(rules.flatMap((rule) => rule.eventType!))] };
  });
}

/** A webhook's event type: a header, or a field of the payload; anything but a non-empty string is none. */
function readEventType(selector: EventSelector, payload: unknown, headers: Record<string, string>): string | null {
  const value = readSelector(selector, payload, headers);
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Every check of one rule against one payload, in order; the first that fails decides. */
function judge(rule: RuleConfig, payload: unknown, eventType: string | null): Judged {
  const verdict: RuleVerdict = { rule: rule.name, matched: false };
  if (rule.eventType) {
    const ok = eventType !== null && rule.eventType.includes(eventType);
    verdict.eventType = { accepted: rule.eventType, ok };
    if (!ok) return { verdict: { ...verdict, failed: 'eventType' } };
  }
  let stage: 'when' | 'customer' = 'when';
  try {
    if (rule.when !== undefined) {
      const value = evaluateField(rule, 'when', rule.when, payload, 'invalid_event');
      const ok = isTruthy(value);
      verdict.when = { expression: rule.when, value, ok };
      if (!ok) return { verdict: { ...verdict, failed: 'when' } };
    }
    stage = 'customer';
    const { by, expression } = rule.customer;
    const field = by === 'lookup' ? 'customer.from' : `customer.${by}`;
    const value = evaluateField(rule, field, expression, payload, 'invalid_customer');
    verdict.customer = { by, expression, value };
    const customer = customerRef(rule, field, value);
    return {
      verdict: { ...verdict, matched: true },
      job: { rule: rule.name, customer, removeTags: [...rule.removeTags], addTags: [...rule.addTags] },
    };
  } catch (error) {
    if (!(error instanceof BadEventError)) throw error;
    return { verdict: { ...verdict, failed: stage, error: error.message }, error };
  }
}

/**
 * Powertools' `search` parses through a module-level cache (128 expressions), so each expression
 * is parsed once in practice. Validation rejected syntax errors, so a JMESPathError here is a type
 * error on this payload's data; a RangeError is data nested too deeply to walk.
 */
function evaluateField(rule: RuleConfig, field: string, expression: string, payload: unknown, code: string): unknown {
  try {
    return evaluate(expression, payload) ?? null;
  } catch (error) {
    if (error instanceof JMESPathError)
      throw new BadEventError(code, `rule "${rule.name}": ${field} (${expression}) failed: ${error.message}`);
    if (error instanceof RangeError)
      throw new BadEventError(
        code,
        `rule "${rule.name}": ${field} (${expression}): the payload is nested too deeply to evaluate`,
      );
    throw error;
  }
}

/** JMESPath truthiness: false, null, '', [] and {} are false; 0 is true. */
function isTruthy(value: unknown): boolean {
  if (value === null || value === false || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/**
 * The customer a matched rule names; a missing or malformed value fails the event. Numbers must
 * be exact: JSON parsing rounds integers beyond 2^53, which would name another customer.
 */
function customerRef(rule: RuleConfig, field: string, value: unknown): CustomerRef {
  const { customer } = rule;
  // Values are described by type, not echoed: they may be personal data.
  const fail = (problem: string) =>
    new BadEventError('invalid_customer', `rule "${rule.name}": ${field} (${customer.expression}) ${problem}`);
  if (value === null || (typeof value === 'string' && value.trim() === '')) throw fail('is missing');
  if (typeof value === 'number' && !Number.isSafeInteger(value))
    throw fail(`must be a whole number below 2^53, got ${describe(value)}`);
  if (customer.by === 'helpcrunchId') {
    const id = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;
    if (typeof id === 'number' && !customerIdProblem(id)) return { by: 'helpcrunchId', value: id };
    throw fail(`must be a positive HelpCrunch customer id below 2^53, got ${describe(value)}`);
  }
  // A userId or a lookup's id may be a number in the payload; an email never is.
  const text = typeof value === 'number' && customer.by !== 'email' ? String(value) : value;
  if (typeof text !== 'string') {
    throw fail(`must be a string${customer.by === 'email' ? '' : ' or a whole number'}, got ${describe(value)}`);
  }
  const problem = textReferenceProblem(text, customer.by);
  if (problem) throw fail(problem);
  return customer.by === 'lookup'
    ? { by: 'lookup', lookup: customer.lookup, value: text }
    : { by: customer.by, value: text };
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value); // a number is not personal data on its own
  if (typeof value === 'string') return 'a string that is not one'; // only helpcrunchId rejects strings
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
