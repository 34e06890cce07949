import { WebhookAuthError } from '../errors';
import { secretOnly } from './options';
import { requireHeader, safeEqual } from './request';
import { defineScheme } from './scheme';

/**
 * `Authorization: Basic base64(user:password)` (RFC 7617); the secret is `user:password`. For
 * senders that do not sign (Pipedrive, Chargebee); it names no event type.
 */
export const basic = defineScheme({
  name: 'basic',
  docs: 'https://www.rfc-editor.org/rfc/rfc7617',
  options: secretOnly,
  event: {},
  verify(_config, request, secret) {
    const match = /^Basic\s+(\S+)\s*$/i.exec(requireHeader(request, 'authorization'));
    const credentials = match ? Buffer.from(match[1], 'base64') : undefined;
    if (!credentials || !safeEqual(credentials, secret)) {
      throw new WebhookAuthError("Basic credentials in header 'authorization' do not match");
    }
  },
  sign: (_config, secret) => ({ headers: { authorization: `Basic ${Buffer.from(secret).toString('base64')}` } }),
});
