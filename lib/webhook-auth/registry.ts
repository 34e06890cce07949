/**
 * Every signature scheme rules.yml may name, each defined in its own file. The validator,
 * rules.schema.json, docs/senders.md's test, the local signing and the banner's curl lines all
 * read this list: adding a vendor is its file, its line here, and its test.
 */
import { basic } from './basic';
import { calendly } from './calendly';
import { github } from './github';
import { helpcrunch } from './helpcrunch';
import { hmac } from './hmac';
import { hubspotV3 } from './hubspot-v3';
import { none } from './none';
import { paddle } from './paddle';
import type { WebhookRequest } from './request';
import type {
  OptionsSchema,
  SchemeConfig,
  SchemeEvent,
  ShellSigning,
  SignedRequest,
  SignOptions,
  WebhookScheme,
} from './scheme';
import { shopify } from './shopify';
import { standardWebhooks } from './standard-webhooks';
import { stripe } from './stripe';
import { token } from './token';

/** In the order validation messages and rules.schema.json list them. */
export const SCHEMES = [
  hmac,
  stripe,
  calendly,
  paddle,
  hubspotV3,
  helpcrunch,
  github,
  shopify,
  standardWebhooks,
  token,
  basic,
  none,
] as const;

type RegisteredScheme = (typeof SCHEMES)[number];
export type SchemeName = RegisteredScheme['name'];

/** The validated `verify` of a webhook source: one scheme's name and keys, defaults filled in. */
export type VerifyConfig = RegisteredScheme extends infer Scheme
  ? Scheme extends WebhookScheme<infer Name, infer Options>
    ? SchemeConfig<Name, Options>
    : never
  : never;

/** A scheme as the code that dispatches on `config.scheme` sees it: it only ever hands a scheme its own config. */
export interface RegisteredWebhookScheme {
  name: SchemeName;
  docs: string;
  options: OptionsSchema;
  aliases?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  event: SchemeEvent;
  verify(config: VerifyConfig, request: WebhookRequest, secret: string, nowMs: number): void;
  sign(config: VerifyConfig, secret: string, body: string | Buffer, options: SignOptions): SignedRequest;
  signInShell?(config: VerifyConfig, secret: string, context: { url: string }): ShellSigning;
  secretFromText?(text: string): string;
}

const byName = new Map<string, RegisteredWebhookScheme>(
  SCHEMES.map((scheme) => [scheme.name, scheme as RegisteredWebhookScheme]),
);

/** The scheme a validated config names. */
export function schemeOf(config: Pick<VerifyConfig, 'scheme'>): RegisteredWebhookScheme {
  return byName.get(config.scheme)!;
}

/** Every scheme, as the dispatching code sees it. */
export const registeredSchemes = (): RegisteredWebhookScheme[] => [...byName.values()];
