import { WebhookAuthError } from '../errors';
import { requireHeader, safeEqual, type WebhookRequest } from './request';

/** `Authorization: Basic base64(user:password)`; the secret is `user:password`. */
export function verifyBasic(request: WebhookRequest, secret: string): void {
  const match = /^Basic\s+(\S+)\s*$/i.exec(requireHeader(request, 'authorization'));
  const credentials = match ? Buffer.from(match[1], 'base64') : undefined;
  if (!credentials || !safeEqual(credentials, secret)) {
    throw new WebhookAuthError("Basic credentials in header 'authorization' do not match");
  }
}
