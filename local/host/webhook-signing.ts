/**
 * The sender's side of each verify scheme in rules.yml, so local tools can send webhooks the
 * function accepts, and the demo secrets the local stack stores for every source's secretId.
 * Formats and digests come from lib/webhook-auth; tests check what this produces with each
 * vendor's own verifier.
 */
import { randomUUID } from 'node:crypto';
import type { RulesConfig, VerifyConfig } from '../../lib/rules/types';
import { HMAC_PRESETS, hmacSignature } from '../../lib/webhook-auth/hmac';
import {
  HUBSPOT_SIGNATURE_HEADER,
  HUBSPOT_TIMESTAMP_HEADER,
  hubspotCalledUrl,
  hubspotSignature,
} from '../../lib/webhook-auth/hubspot';
import { standardWebhooksSignature } from '../../lib/webhook-auth/standard-webhooks';
import { TIMESTAMPED_FORMATS, timestampedSignature } from '../../lib/webhook-auth/timestamped';

export { standardWebhooksKey } from '../../lib/webhook-auth/standard-webhooks';

/** A verify scheme that needs a secret. */
export type SecretVerifyConfig = Exclude<VerifyConfig, { scheme: 'none' }>;

/**
 * The demo value of a signing secret: `demo:<secretId>`, which also reads as the user:password of
 * basic auth; Standard Webhooks secrets are that text as whsec_<base64>. Public by design: only the
 * local stack accepts them.
 */
export function demoSigningSecret(verify: SecretVerifyConfig): string {
  const text = `demo:${verify.secretId}`;
  return verify.scheme === 'standard-webhooks' ? `whsec_${Buffer.from(text).toString('base64')}` : text;
}

/** secretId -> demo value for every webhook source that names one. */
export function demoSigningSecrets(rules: RulesConfig): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const { verify } of Object.values(rules.sources)) {
    if (verify.scheme !== 'none') secrets[verify.secretId] = demoSigningSecret(verify);
  }
  return secrets;
}

export interface SigningOptions {
  /** The sender's clock; timestamped schemes sign it. */
  nowMs?: number;
  /** Standard Webhooks' message id. */
  id?: string;
  /** Standard Webhooks' header names: `webhook-*` (the spec) or `svix-*` (Svix's default). */
  headerPrefix?: 'webhook' | 'svix';
  /** hubspot-v3: the URL the request is sent to (HubSpot signs it), unless the source sets publicUrl. */
  url?: string;
}

/** The headers that authenticate `body` under `verify` with `secret`. */
export function signWebhook(
  verify: VerifyConfig,
  secret: string,
  body: string | Buffer,
  { nowMs = Date.now(), id = `msg_${randomUUID()}`, headerPrefix = 'webhook', url }: SigningOptions = {},
): Record<string, string> {
  const seconds = String(Math.floor(nowMs / 1000));
  switch (verify.scheme) {
    case 'none':
      return {};
    case 'hmac':
      return { [verify.header]: hmacSignature(verify, secret, body) };
    case 'github':
    case 'shopify':
    case 'helpcrunch': {
      const format = HMAC_PRESETS[verify.scheme];
      return { [format.header]: hmacSignature(format, secret, body) };
    }
    case 'stripe':
    case 'calendly':
    case 'paddle': {
      const format = TIMESTAMPED_FORMATS[verify.scheme];
      const signature = timestampedSignature(format, secret, seconds, body);
      return {
        [format.header]: `${format.timestampKey}=${seconds}${format.separator}${format.signatureKey}=${signature}`,
      };
    }
    case 'hubspot-v3': {
      if (verify.publicUrl === undefined && url === undefined)
        throw new Error('hubspot-v3 signs the URL the request goes to: pass { url }');
      const timestamp = String(nowMs);
      const signature = hubspotSignature(secret, 'POST', hubspotCalledUrl(verify, { url }), body, timestamp);
      return { [HUBSPOT_SIGNATURE_HEADER]: signature, [HUBSPOT_TIMESTAMP_HEADER]: timestamp };
    }
    case 'standard-webhooks': {
      const signature = standardWebhooksSignature(secret, id, seconds, body);
      return {
        [`${headerPrefix}-id`]: id,
        [`${headerPrefix}-timestamp`]: seconds,
        [`${headerPrefix}-signature`]: `v1,${signature}`,
      };
    }
    case 'token':
      return { [verify.header]: secret };
    case 'basic':
      return { authorization: `Basic ${Buffer.from(secret).toString('base64')}` };
  }
}
