import { createHmac } from 'node:crypto';
import { WebhookAuthError } from '../errors';
import type { VerifyConfig } from '../rules/types';
import { requireHeader, safeEqual, type WebhookRequest } from './request';

type HmacConfig = Extract<VerifyConfig, { scheme: 'hmac' }>;

/** `<prefix><digest>` where digest = HMAC-<algorithm>(secret, raw body) in hex (any case) or base64. */
export function verifyHmac(config: HmacConfig, request: WebhookRequest, secret: string): void {
  const header = requireHeader(request, config.header).trim();
  const prefix = config.prefix ?? '';
  const digest = createHmac(config.algorithm, secret).update(request.rawBody).digest(config.encoding);
  const received = header.startsWith(prefix) ? header.slice(prefix.length) : undefined;
  const normalised = config.encoding === 'hex' ? received?.toLowerCase() : received;
  if (normalised === undefined || !safeEqual(normalised, digest)) {
    throw new WebhookAuthError(`Signature in header '${config.header.toLowerCase()}' does not match`);
  }
}
