import { WebhookAuthError } from '../errors';
import { headerOption, secretIdOption } from './options';
import { requireHeader, safeEqual } from './request';
import { defineScheme } from './scheme';

/** A shared secret the sender sends verbatim in a header of its choice. It names no event type. */
export const token = defineScheme({
  name: 'token',
  docs: 'docs/senders.md#token',
  options: {
    type: 'object',
    properties: {
      header: { ...headerOption, examples: ['X-Webhook-Token'] },
      secretId: secretIdOption,
    },
    required: ['header', 'secretId'],
    additionalProperties: false,
  },
  event: {},
  verify(config, request, secret) {
    if (!safeEqual(requireHeader(request, config.header), secret)) {
      throw new WebhookAuthError(`Token in header '${config.header.toLowerCase()}' does not match`);
    }
  },
  sign: (config, secret) => ({ headers: { [config.header]: secret } }),
});
