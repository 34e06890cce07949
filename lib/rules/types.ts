/**
 * The validated shape of rules.yml (see README "rules.yml"), produced at build time by
 * validateRulesConfig. What rules.yml may say is lib/rules/shape.ts's; the types below come from it
 * where the validated form keeps the file's shape (a verify scheme, an EventBridge source, a preset
 * lookup: defaults filled in), and say the normalised form where validation rewrites it (lists for
 * one-or-many values, a customer as {by, expression}, a lookup's auth as {in, name}).
 */
import type { FromSchema } from 'json-schema-to-ts';
import type { EventSelector } from './selector';
import type { eventSourceSchema, LOOKUP_PRESETS, presetLookupSchema } from './shape';
import type { VerifyConfig } from '../webhook-auth/registry';

export type { HmacAlgorithm } from '../webhook-auth/hmac';
export type { VerifyConfig } from '../webhook-auth/registry';
export type { EventSelector } from './selector';

/**
 * A webhook source. Each selector is the source's own (rules.yml `sources.<name>.…`) or else its
 * scheme's default (lib/webhook-auth/<scheme>.ts `event`).
 */
export interface WebhookSourceConfig {
  verify: VerifyConfig;
  /** Absent: the source's events have no type (rules with `eventType` never match them). */
  eventType?: EventSelector;
  /** The sender's id of the event, the same on every retry of it. Absent: the sender gives none. */
  eventId?: EventSelector;
  /**
   * When the event occurred (not when it was delivered): ISO 8601 / RFC 3339, or unix seconds or
   * milliseconds, as a number or a digit string. Absent: the sender gives none.
   */
  occurredAt?: EventSelector;
}

/** A reference to a HelpCrunch customer that HelpCrunch itself understands. */
export type DirectCustomerKind = 'helpcrunchId' | 'email' | 'userId';

/**
 * Whom a rule's tag changes apply to: a JMESPath into the payload that yields a HelpCrunch id,
 * email or userId; or (lookup) a JMESPath that yields the sender's own id, which the named
 * lookup turns into one of those through the sender's API.
 */
export type CustomerSelector =
  | { by: DirectCustomerKind; expression: string }
  | { by: 'lookup'; lookup: string; expression: string };

export interface RuleConfig {
  name: string;
  /** Webhook source names and/or EventBridge sources (always a list once validated). */
  source: string[];
  /**
   * Accepted event types (absent = any): a webhook source's event type (sources.<name>.eventType),
   * an EventBridge event's `detail-type`. A rule with event types never matches an untyped event.
   */
  eventType?: string[];
  /** Optional JMESPath; the rule applies when it is truthy. */
  when?: string;
  customer: CustomerSelector;
  /** Tags to remove and to add; at least one of the two is non-empty. */
  removeTags: string[];
  addTags: string[];
}

/** An EventBridge source the stack listens to, and on which bus (a name or ARN; `default`). */
export type EventSourceConfig = FromSchema<typeof eventSourceSchema>;

export type LookupPreset = (typeof LOOKUP_PRESETS)[number];

/** How a generic lookup sends its secret: Authorization Bearer or Basic, a header, or a query parameter. */
export type LookupAuth =
  | { in: 'bearer' }
  | { in: 'basic' }
  | { in: 'header'; name: string }
  | { in: 'query'; name: string };

/** A lookup turns a sender's own id into a HelpCrunch customer reference through the sender's API. */
export type LookupConfig =
  /** A preset; its `baseUrl`, when given, is the API's origin (Pipedrive company domain, a stand-in). */
  | FromSchema<typeof presetLookupSchema>
  | {
      /** https URL with one `{id}` placeholder in its path or query. */
      url: string;
      auth: LookupAuth;
      secretId: string;
      /** JMESPath into the JSON answer yielding the reference. */
      select: { by: DirectCustomerKind; expression: string };
      cacheSeconds: number;
    };

export interface RulesConfig {
  sources: Record<string, WebhookSourceConfig>;
  eventSources: Record<string, EventSourceConfig>;
  lookups: Record<string, LookupConfig>;
  rules: RuleConfig[];
}
