/**
 * The sender's side of each verify scheme in rules.yml, so local tools can send webhooks the
 * function accepts, and the demo secrets the local stack stores for every source's secretId.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { RulesConfig, VerifyConfig } from '../../lib/rules/types';

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

/** The HMAC key of a Standard Webhooks secret (whsec_<base64>). */
export function standardWebhooksKey(secret: string): Buffer {
  return Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
}

/** The headers that authenticate `body` under `verify` with `secret`. */
export function signWebhook(
  verify: VerifyConfig,
  secret: string,
  body: string | Buffer,
  { nowMs = Date.now(), id = `msg_${randomUUID()}` }: { nowMs?: number; id?: string } = {},
): Record<string, string> {
  switch (verify.scheme) {
    case 'none':
      return {};
    case 'hmac': {
      const digest = createHmac(verify.algorithm, secret).update(body).digest(verify.encoding);
      return { [verify.header]: `${verify.prefix ?? ''}${digest}` };
    }
    case 'standard-webhooks': {
      const timestamp = String(Math.floor(nowMs / 1000));
      const signature = createHmac('sha256', standardWebhooksKey(secret)).update(`${id}.${timestamp}.`).update(body).digest('base64');
      return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
    }
    case 'token':
      return { [verify.header]: secret };
    case 'basic':
      return { authorization: `Basic ${Buffer.from(secret).toString('base64')}` };
    default:
      throw new Error(`Signing for scheme '${verify.scheme}' is not implemented yet`);
  }
}
