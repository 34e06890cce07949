/** The validated shape of rules.yml (see README "rules.yml"). Produced at build time by validateRulesConfig. */

export type HmacAlgorithm = 'sha1' | 'sha256' | 'sha512';

/**
 * How a webhook source is authenticated (sources.<name>.verify). Vendor schemes carry only what
 * differs per deployment (the secret, a tolerance); their headers and formats are fixed in
 * lib/webhook-auth. Every timestamped scheme has its `toleranceSeconds` filled in by validation.
 */
export type VerifyConfig =
  | {
      /** Generic HMAC of the raw body (`hmac-sha256` in rules.yml is an alias with algorithm sha256). */
      scheme: 'hmac';
      algorithm: HmacAlgorithm;
      /** Header carrying the signature (matched case-insensitively). */
      header: string;
      /** Optional text before the digest, e.g. "sha256=". */
      prefix?: string;
      encoding: 'hex' | 'base64';
      secretId: string;
    }
  /** Stripe-Signature: t=<unix>,v1=<hex>; the secret is the whole whsec_… string. */
  | { scheme: 'stripe'; secretId: string; toleranceSeconds: number }
  /** Calendly-Webhook-Signature, Stripe's format. */
  | { scheme: 'calendly'; secretId: string; toleranceSeconds: number }
  /** Paddle-Signature: ts=<unix>;h1=<hex>. */
  | { scheme: 'paddle'; secretId: string; toleranceSeconds: number }
  /** X-HubSpot-Signature-v3 over method + URL + body + timestamp; `publicUrl` when behind a custom domain. */
  | { scheme: 'hubspot-v3'; secretId: string; toleranceSeconds: number; publicUrl?: string }
  /** X-HelpCrunch-Signature: hex HMAC-SHA1 of the body (HelpCrunch's own outgoing webhooks). */
  | { scheme: 'helpcrunch'; secretId: string }
  /** X-Hub-Signature-256: sha256=<hex>. */
  | { scheme: 'github'; secretId: string }
  /** X-Shopify-Hmac-Sha256: base64 HMAC-SHA256. */
  | { scheme: 'shopify'; secretId: string }
  /** webhook-id/-timestamp/-signature, or Svix's svix-* names; the secret is whsec_<base64>. */
  | { scheme: 'standard-webhooks'; secretId: string; toleranceSeconds: number }
  | { scheme: 'token'; header: string; secretId: string }
  | { scheme: 'basic'; secretId: string }
  | { scheme: 'none' };

/** Where a webhook's event type is read: a request header (any case), or a JMESPath into each payload. */
export type EventTypeSelector = { header: string } | { field: string };

export interface WebhookSourceConfig {
  verify: VerifyConfig;
  /** Absent: the source's events have no type (rules with `eventType` never match them). */
  eventType?: EventTypeSelector;
  /** Where a payload's event id is (absent: a digest of the source and the body). */
  eventId?: EventTypeSelector;
  /** Where a payload's event time is (absent: when it was received). */
  occurredAt?: EventTypeSelector;
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
export interface EventSourceConfig {
  bus: string;
}

export const LOOKUP_PRESETS = [
  'stripe-customer',
  'paddle-customer',
  'pipedrive-person',
  'hubspot-contact',
  'hubspot-deal-contacts',
] as const;
export type LookupPreset = (typeof LOOKUP_PRESETS)[number];

/** How a generic lookup sends its secret: Authorization Bearer or Basic, a header, or a query parameter. */
export type LookupAuth =
  | { in: 'bearer' }
  | { in: 'basic' }
  | { in: 'header'; name: string }
  | { in: 'query'; name: string };

/** A lookup turns a sender's own id into a HelpCrunch customer reference through the sender's API. */
export type LookupConfig =
  | {
      preset: LookupPreset;
      /** The API's origin, when not the vendor's default (Pipedrive company domain, a stand-in). */
      baseUrl?: string;
      secretId: string;
      cacheSeconds: number;
    }
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
