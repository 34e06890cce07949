/**
 * A plain HMAC of the raw body in one header: the generic `hmac` scheme (any sender that signs this
 * way, configured in rules.yml), and the shape GitHub, Shopify and HelpCrunch share.
 */
import { createHmac } from 'node:crypto';
import { WebhookAuthError } from '../errors';
import { headerOption, secretIdOption, secretOnly } from './options';
import { digestEqual, requireHeader, type WebhookRequest } from './request';
import { defineScheme, type SchemeEvent } from './scheme';

export const HMAC_ALGORITHMS = ['sha1', 'sha256', 'sha512'] as const;
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];

/** Where and how an HMAC of the raw body travels. */
export interface HmacFormat {
  algorithm: HmacAlgorithm;
  /** Matched case-insensitively. */
  header: string;
  /** Text before the digest, e.g. "sha256=". */
  prefix?: string;
  encoding: 'hex' | 'base64';
}

/** `<prefix><digest>`: the header value a sender puts on `body`. */
export function hmacSignature(format: HmacFormat, secret: string, body: string | Buffer): string {
  return `${format.prefix ?? ''}${createHmac(format.algorithm, secret).update(body).digest(format.encoding)}`;
}

/** `<prefix><digest>` where digest = HMAC-<algorithm>(secret, raw body) in hex (any case) or base64. */
export function verifyHmac(format: HmacFormat, request: WebhookRequest, secret: string): void {
  const header = requireHeader(request, format.header).trim();
  const prefix = format.prefix ?? '';
  const received = header.startsWith(prefix) ? header.slice(prefix.length) : undefined;
  const normalised = format.encoding === 'hex' ? received?.toLowerCase() : received;
  const expected = hmacSignature({ ...format, prefix: '' }, secret, request.rawBody);
  if (normalised === undefined || !digestEqual(normalised, expected)) {
    throw new WebhookAuthError(`Signature in header '${format.header.toLowerCase()}' does not match`);
  }
}

/** A vendor whose scheme is a plain HMAC of the body in a fixed format: only its secret is configured. */
export function bodyHmacScheme<const Name extends string>(vendor: {
  name: Name;
  docs: string;
  format: HmacFormat;
  event: SchemeEvent;
}) {
  const { format } = vendor;
  return defineScheme({
    name: vendor.name,
    docs: vendor.docs,
    options: secretOnly,
    event: vendor.event,
    verify: (_config, request, secret) => verifyHmac(format, request, secret),
    sign: (_config, secret, body) => ({ headers: { [format.header]: hmacSignature(format, secret, body) } }),
  });
}

/**
 * Any sender that signs the raw body with an HMAC in one header (Intercom: `algorithm: sha1`,
 * `header: X-Hub-Signature`, `prefix: "sha1="`). It names no event type: sources set `eventType`.
 */
export const hmac = defineScheme({
  name: 'hmac',
  docs: 'https://www.rfc-editor.org/rfc/rfc2104',
  options: {
    type: 'object',
    properties: {
      algorithm: { enum: HMAC_ALGORITHMS, description: 'HMAC hash', examples: ['sha256'] },
      header: headerOption,
      prefix: { type: 'string', description: 'text before the digest, e.g. "sha256="', examples: ['sha256='] },
      encoding: { enum: ['hex', 'base64'], default: 'hex', description: 'digest encoding (default hex)' },
      secretId: secretIdOption,
    },
    required: ['algorithm', 'header', 'secretId'],
    additionalProperties: false,
  },
  aliases: { 'hmac-sha256': { algorithm: 'sha256' } },
  event: {},
  verify: (config, request, secret) => verifyHmac(config, request, secret),
  sign: (config, secret, body) => ({ headers: { [config.header]: hmacSignature(config, secret, body) } }),
});
