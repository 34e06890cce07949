import { ConfigError } from '../errors';
import type { VerifyConfig } from '../rules/types';
import { verifyBasic } from './basic';
import { HMAC_PRESETS, verifyHmac } from './hmac';
import { verifyHubSpotV3 } from './hubspot';
import type { WebhookRequest } from './request';
import { verifyStandardWebhook } from './standard-webhooks';
import { TIMESTAMPED_FORMATS, verifyTimestamped } from './timestamped';
import { verifyToken } from './token';

export type { WebhookRequest } from './request';

/**
 * Authenticates a webhook before anything else reads it. Throws WebhookAuthError
 * (missing_signature, invalid_signature, timestamp_out_of_tolerance) or ConfigError when
 * the scheme needs a secret that was not loaded. Returns normally when the request is genuine.
 */
export function verifyWebhook(
  config: VerifyConfig,
  request: WebhookRequest,
  secret: string | undefined,
  nowMs = Date.now(),
): void {
  if (config.scheme === 'none') return;
  // An empty secret would make an empty token or signature "match": treat it as missing.
  if (!secret) {
    throw new ConfigError(`No secret loaded for '${config.scheme}' verification (secretId '${config.secretId}')`);
  }
  switch (config.scheme) {
    case 'hmac':
      verifyHmac(config, request, secret);
      return;
    case 'github':
    case 'shopify':
    case 'helpcrunch':
      verifyHmac(HMAC_PRESETS[config.scheme], request, secret);
      return;
    case 'stripe':
    case 'calendly':
    case 'paddle':
      verifyTimestamped(TIMESTAMPED_FORMATS[config.scheme], config.toleranceSeconds, request, secret, nowMs);
      return;
    case 'hubspot-v3':
      verifyHubSpotV3(config, request, secret, nowMs);
      return;
    case 'standard-webhooks':
      verifyStandardWebhook(config.toleranceSeconds, request, secret, nowMs);
      return;
    case 'token':
      verifyToken(config.header, request, secret);
      return;
    case 'basic':
      verifyBasic(request, secret);
      return;
  }
}
