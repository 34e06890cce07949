/**
 * The sender's side of each verify scheme in rules.yml, so local tools can send webhooks the
 * function accepts, and the demo secrets the local stack stores for every source's secretId.
 * Formats and digests come from lib/webhook-auth; tests check what this produces with each
 * vendor's own verifier.
 */
import { randomUUID } from 'node:crypto';
import type { RulesConfig, VerifyConfig } from '../../lib/rules/types';
import { schemeOf } from '../../lib/webhook-auth/registry';
import type { SignOptions } from '../../lib/webhook-auth/scheme';

/** A verify scheme that needs a secret. */
export type SecretVerifyConfig = Exclude<VerifyConfig, { scheme: 'none' }>;

/**
 * The demo value of a signing secret: `demo:<secretId>`, which also reads as the user:password of
 * basic auth, in the form the scheme's secrets take (Standard Webhooks: whsec_<base64>). Public by
 * design: only the local stack accepts them.
 */
export function demoSigningSecret(verify: SecretVerifyConfig): string {
  const text = `demo:${verify.secretId}`;
  return schemeOf(verify).secretFromText?.(text) ?? text;
}

/** secretId -> demo value for every webhook source that names one. */
export function demoSigningSecrets(rules: RulesConfig): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const { verify } of Object.values(rules.sources)) {
    if (verify.scheme !== 'none') secrets[verify.secretId] = demoSigningSecret(verify);
  }
  return secrets;
}

export type SigningOptions = Partial<SignOptions>;

/** The headers that authenticate `body` under `verify` with `secret`, signed by the scheme. */
export function signWebhook(
  verify: VerifyConfig,
  secret: string,
  body: string | Buffer,
  options: SigningOptions = {},
): Record<string, string> {
  return sign(verify, secret, body, options).headers;
}

/**
 * The request that authenticates `body` when sent to `target`: the scheme's headers, and the query
 * parameters of a scheme that carries its secret in the URL (a `token` source's `query`).
 */
export function signWebhookRequest(
  verify: VerifyConfig,
  secret: string,
  body: string | Buffer,
  target: string,
  options: SigningOptions = {},
): { url: string; headers: Record<string, string> } {
  const { headers, query = {} } = sign(verify, secret, body, options);
  const url = new URL(target);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  return { url: url.toString(), headers };
}

function sign(
  verify: VerifyConfig,
  secret: string,
  body: string | Buffer,
  { nowMs = Date.now(), id = `msg_${randomUUID()}`, ...options }: SigningOptions,
) {
  return schemeOf(verify).sign(verify, secret, body, { nowMs, id, ...options });
}
