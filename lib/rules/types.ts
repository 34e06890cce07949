/** The validated shape of rules.yml (see README "rules.yml"). Produced at build time by validateRulesConfig. */

export type VerifyConfig =
  | {
      scheme: 'hmac-sha256';
      /** Header carrying the signature (matched case-insensitively). */
      header: string;
      /** Optional text before the digest, e.g. "sha256=". */
      prefix?: string;
      encoding: 'hex' | 'base64';
      secretId: string;
    }
  | { scheme: 'standard-webhooks'; secretId: string }
  | { scheme: 'token'; header: string; secretId: string }
  | { scheme: 'basic'; secretId: string }
  | { scheme: 'none' };

export type VerifyScheme = VerifyConfig['scheme'];

export interface WebhookSourceConfig {
  verify: VerifyConfig;
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
