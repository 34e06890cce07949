import { ConfigError } from '../errors';
import { schemeOf, type VerifyConfig } from './registry';
import type { WebhookRequest } from './request';

export type { WebhookRequest } from './request';

/**
 * Authenticates a webhook before anything else reads it, with the scheme its config names (see
 * lib/webhook-auth/registry.ts). Throws WebhookAuthError (missing_signature, invalid_signature,
 * timestamp_out_of_tolerance) or ConfigError when the scheme needs a secret that was not loaded.
 * Returns normally when the request is genuine.
 */
export function verifyWebhook(
  config: VerifyConfig,
  request: WebhookRequest,
  secret: string | undefined,
  nowMs = Date.now(),
): void {
  // An empty secret would make an empty token or signature "match": treat it as missing.
  if ('secretId' in config && !secret) {
    throw new ConfigError(`No secret loaded for '${config.scheme}' verification (secretId '${config.secretId}')`);
  }
  schemeOf(config).verify(config, request, secret ?? '', nowMs);
}
