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
}

/** Exactly one key: a JMESPath expression into the payload that yields the customer. */
export type CustomerSelector = { id: string } | { email: string } | { userId: string };

export interface RuleConfig {
  name: string;
  /** Webhook source names and/or EventBridge `source` values (always a list once validated). */
  source: string[];
  /** Optional JMESPath; the rule applies when it is truthy. */
  when?: string;
  /** EventBridge only: `detail-type` values this rule accepts (absent = any). */
  detailType?: string[];
  customer: CustomerSelector;
  removeTags: string[];
}

export interface RulesConfig {
  sources: Record<string, WebhookSourceConfig>;
  rules: RuleConfig[];
}
