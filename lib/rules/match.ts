/**
 * Runtime side of rules.yml: which rules apply to a payload and whom they name. Takes an
 * already validated RulesConfig (bundled as JSON at build time), so it carries no validator.
 */
import { JMESPathError, search } from '@aws-lambda-powertools/jmespath';
import { BadEventError, UnknownSourceError } from '../errors';
import type { CustomerRef, Job } from '../types';
import type { RuleConfig, RulesConfig, WebhookSourceConfig } from './types';

/** One EventBridge rule to create: `detailType` absent means every detail-type of `source`. */
export interface EventBridgePattern {
  source: string;
  detailType?: string[];
}

export interface BusEventInput {
  source: string;
  detailType: string;
  detail: unknown;
}

export interface RuleSet {
  /** The webhook source named by /webhooks/<name>, or undefined when there is none. */
  webhookSource(name: string): WebhookSourceConfig | undefined;
  /** Jobs for one webhook payload (one element of an array body). Throws BadEventError, UnknownSourceError. */
  matchWebhook(source: string, payload: Record<string, unknown>): Job[];
  /** Jobs for one EventBridge event; its `detail` is the payload. Throws BadEventError. */
  matchEvent(event: BusEventInput): Job[];
  /** One pattern per EventBridge source, so each event reaches the function exactly once. */
  eventBridgePatterns(): EventBridgePattern[];
}

type CustomerKind = CustomerRef['by'];

interface CompiledRule {
  name: string;
  when?: string;
  detailTypes?: Set<string>;
  customerKind: CustomerKind;
  customerExpression: string;
  tags: string[];
}

export function compileRules(config: RulesConfig): RuleSet {
  // A Map, not the config object, so names like "__proto__" or "constructor" find nothing.
  const webhookSources = new Map(Object.entries(config.sources));
  const webhookRules = new Map<string, CompiledRule[]>();
  const eventRules = new Map<string, CompiledRule[]>();
  for (const rule of config.rules) {
    const compiled = compileRule(rule);
    for (const source of rule.source) {
      const index = webhookSources.has(source) ? webhookRules : eventRules;
      index.set(source, [...(index.get(source) ?? []), compiled]);
    }
  }
  const patterns = toPatterns(eventRules);

  return {
    webhookSource: (name) => webhookSources.get(name),
    matchWebhook(source, payload) {
      // Only webhook sources: an EventBridge source name posted as a webhook would skip verification.
      if (!webhookSources.has(source)) throw new UnknownSourceError(source);
      return jobsFor(webhookRules.get(source) ?? [], payload);
    },
    matchEvent({ source, detailType, detail }) {
      const rules = (eventRules.get(source) ?? []).filter((rule) => rule.detailTypes?.has(detailType) ?? true);
      return jobsFor(rules, detail ?? null);
    },
    eventBridgePatterns: () => patterns.map((pattern) => structuredClone(pattern)),
  };
}

function compileRule(rule: RuleConfig): CompiledRule {
  const [customerKind, customerExpression] = Object.entries(rule.customer)[0] as [CustomerKind, string];
  return {
    name: rule.name,
    ...(rule.when !== undefined && { when: rule.when }),
    ...(rule.detailType && { detailTypes: new Set(rule.detailType) }),
    customerKind,
    customerExpression,
    tags: rule.removeTags,
  };
}

/**
 * Rules for one source are merged into one pattern (union of detail types, or none when any
 * rule takes every detail type): overlapping EventBridge rules would deliver an event twice.
 */
function toPatterns(eventRules: Map<string, CompiledRule[]>): EventBridgePattern[] {
  return [...eventRules].map(([source, rules]) => {
    if (rules.some((rule) => !rule.detailTypes)) return { source };
    return { source, detailType: [...new Set(rules.flatMap((rule) => [...rule.detailTypes!]))] };
  });
}

function jobsFor(rules: CompiledRule[], payload: unknown): Job[] {
  return rules
    .filter((rule) => rule.when === undefined || isTruthy(evaluate(rule, 'when', rule.when, payload, 'invalid_event')))
    .map((rule) => ({ rule: rule.name, customer: readCustomer(rule, payload), tags: [...rule.tags] }));
}

/**
 * The powertools package exports `search` but not its parser; `search` parses through a
 * module-level cache (128 expressions), so each expression is parsed once in practice.
 */
function evaluate(rule: CompiledRule, field: string, expression: string, payload: unknown, code: string): unknown {
  try {
    return search(expression, payload as Parameters<typeof search>[1]) ?? null;
  } catch (error) {
    // Validation rejected syntax errors, so this is a type error on this payload's data.
    if (error instanceof JMESPathError) {
      throw new BadEventError(code, `rule "${rule.name}": ${field} (${expression}) failed: ${error.message}`);
    }
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

/** Reads the customer a matched rule names; a missing or malformed value fails the event. */
function readCustomer(rule: CompiledRule, payload: unknown): CustomerRef {
  const { customerKind: by, customerExpression: expression } = rule;
  const field = `customer.${by}`;
  const value = evaluate(rule, field, expression, payload, 'invalid_customer');
  // Values are described by type, not echoed: they may be personal data.
  const fail = (problem: string) =>
    new BadEventError('invalid_customer', `rule "${rule.name}": ${field} (${expression}) ${problem}`);

  if (value === null || (typeof value === 'string' && value.trim() === '')) throw fail('is missing');
  switch (by) {
    case 'id': {
      const id = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
      if (typeof id === 'number' && Number.isSafeInteger(id) && id > 0) return { by, value: id };
      throw fail(`must be a positive integer, got ${describe(value)}`);
    }
    case 'email':
      if (typeof value === 'string') return { by, value };
      throw fail(`must be a string, got ${describe(value)}`);
    case 'userId':
      if (typeof value === 'string') return { by, value };
      if (typeof value === 'number' && Number.isFinite(value)) return { by, value: String(value) };
      throw fail(`must be a string, got ${describe(value)}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value); // a number is not personal data on its own
  if (typeof value === 'string') return 'a string that is not one'; // only `id` rejects strings
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
