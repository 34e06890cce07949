import { WebhookAuthError } from '../errors';
import { headerOption, QUERY_NAME_PATTERN, secretIdOption } from './options';
import { requireHeader, safeEqual, type WebhookRequest } from './request';
import { defineScheme } from './scheme';

/**
 * A shared secret the sender sends verbatim: in a header of its choice, or, for senders that can
 * only be given a URL (Mailchimp), in a query parameter of the webhook URL. Compared in constant
 * time. It names no event type.
 */
export const token = defineScheme({
  name: 'token',
  docs: 'docs/senders.md#token',
  options: {
    type: 'object',
    properties: {
      header: { ...headerOption, examples: ['X-Webhook-Token'] },
      query: {
        type: 'string',
        pattern: QUERY_NAME_PATTERN,
        description: 'query parameter of the webhook URL carrying the secret, for senders that cannot set a header',
        errorMessage: 'must be a query parameter name',
        examples: ['key'],
      },
      secretId: secretIdOption,
      answerGet: {
        type: 'boolean',
        description:
          'true: answer a GET that carries the secret with 200, for senders that check the URL before saving it (Mailchimp)',
      },
    },
    required: ['secretId'],
    additionalProperties: false,
    errorMessage: 'needs exactly one of `header` (the secret in a header) or `query` (the secret in the URL)',
    oneOf: [{ required: ['header'] }, { required: ['query'] }],
  },
  event: {},
  verify(config, request, secret) {
    const { where, value } =
      config.query !== undefined ? queryToken(config.query, request) : headerToken(config.header!, request);
    if (!safeEqual(value, secret)) throw new WebhookAuthError(`Token in ${where} does not match`);
  },
  sign: (config, secret) =>
    config.query !== undefined
      ? { headers: {}, query: { [config.query]: secret } }
      : { headers: { [config.header!]: secret } },
});

function headerToken(header: string, request: WebhookRequest): { where: string; value: string } {
  return { where: `header '${header.toLowerCase()}'`, value: requireHeader(request, header) };
}

/** The parameter's one value (percent-decoded); missing or empty is a 401 `missing_signature`, twice a 401 `invalid_signature`. */
function queryToken(name: string, request: WebhookRequest): { where: string; value: string } {
  const where = `query parameter '${name}'`;
  const values = new URLSearchParams(request.query ?? '').getAll(name);
  if (values.length === 0 || values[0] === '') throw new WebhookAuthError(`Missing ${where}`, 'missing_signature');
  // Which of two would a proxy or the sender have meant? Neither is trusted.
  if (values.length > 1) throw new WebhookAuthError(`The ${where} is given ${values.length} times`);
  return { where, value: values[0]! };
}
