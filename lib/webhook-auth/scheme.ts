/**
 * What one signature scheme declares, in the one file that defines it: the keys its `verify`
 * takes (a JSON Schema literal, so rules.schema.json, validation and the config type all come
 * from it), where its vendor puts the event type, id and time, how a request is verified, and how
 * a sender signs one (local tools and tests only: the Lambda path never calls `sign`).
 * lib/webhook-auth/registry.ts lists the schemes.
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type { EventSelector } from '../rules/selector';
import type { WebhookRequest } from './request';

/**
 * The JSON Schema of a scheme's keys besides `scheme`: an object literal, defaults included. (Its
 * properties are checked as JSON Schema where the config type is made, not here: a constraint on
 * the whole JSON Schema type makes inference too deep for the compiler.)
 */
export interface OptionsSchema {
  readonly type: 'object';
  readonly properties: Readonly<Record<string, object>>;
  readonly required?: readonly string[];
  readonly additionalProperties: false;
  /** Alternatives among the keys (e.g. exactly one of `header` or `query`), and what to say when none or several are given. */
  readonly oneOf?: readonly object[];
  readonly errorMessage?: string;
}

/** The validated `verify` of a scheme: its name, and its keys with every default filled in. */
export type SchemeConfig<Name extends string, Options extends OptionsSchema> = {
  scheme: Name;
} & (Options extends JSONSchema ? FromSchema<Options> : never);

/**
 * Where the vendor puts an event's type, id and occurrence time (sources.<name>.eventType,
 * eventId, occurredAt fill from here when rules.yml does not say). Absent: the vendor sends none.
 */
export interface SchemeEvent {
  type?: EventSelector;
  id?: EventSelector;
  occurredAt?: EventSelector;
}

export interface SignOptions {
  /** The sender's clock: timestamped schemes sign it. */
  nowMs: number;
  /** The delivery's id, for schemes that sign one (Standard Webhooks). */
  id: string;
  /** The URL the request is sent to, for schemes that sign it (HubSpot v3). */
  url?: string;
  /** Standard Webhooks' header names: `webhook-*` (the spec) or `svix-*` (Svix's default). */
  headerPrefix?: 'webhook' | 'svix';
}

/** What authenticates a request: headers, and for senders that carry the secret in the URL, query parameters. */
export interface SignedRequest {
  headers: Record<string, string>;
  query?: Record<string, string>;
}

/**
 * How a shell command signs at the moment it runs, for schemes whose signature covers the current
 * time: the command sets `ts` (unix seconds) and `body`, then these `variables`, then pipes
 * `signed` through HMAC-SHA256 under `key` into `sig`, and sends `headers`. `$ts`, `$body`,
 * `$sig` and the variables' names may appear in `signed` and in the header values.
 */
export interface ShellSigning {
  variables: string;
  signed: string;
  key: Buffer;
  output: 'hex' | 'base64';
  headers: Record<string, string>;
}

export interface WebhookScheme<Name extends string = string, Options extends OptionsSchema = OptionsSchema> {
  name: Name;
  /** The vendor page this scheme follows; for a generic scheme, its section of docs/senders.md. */
  docs: string;
  options: Options;
  /**
   * Other names rules.yml may give the scheme, each with the options it fixes
   * (`hmac-sha256` is `hmac` with `algorithm: sha256`).
   */
  aliases?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  event: SchemeEvent;
  /**
   * Returns when the request is genuine; throws WebhookAuthError (401) or ConfigError. `secret`
   * is the loaded, non-empty secret, or '' for a scheme without `secretId`.
   */
  verify(config: SchemeConfig<Name, Options>, request: WebhookRequest, secret: string, nowMs: number): void;
  sign(config: SchemeConfig<Name, Options>, secret: string, body: string | Buffer, options: SignOptions): SignedRequest;
  /** The shell's way to sign when the signature covers the time (see ShellSigning); absent: sign once. */
  signInShell?(config: SchemeConfig<Name, Options>, secret: string, context: { url: string }): ShellSigning;
  /** The form a secret of this scheme takes, from plain text (local demo secrets). */
  secretFromText?(text: string): string;
}

/** Infers a scheme's name and options literally, so its config type is exact. */
export function defineScheme<const Name extends string, const Options extends OptionsSchema>(
  scheme: WebhookScheme<Name, Options>,
): WebhookScheme<Name, Options> {
  return scheme;
}
