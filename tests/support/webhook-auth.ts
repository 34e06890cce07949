/** Requests for lib/webhook-auth and the checks every scheme's tests share. */
import { expect } from 'vitest';
import { WebhookAuthError } from '../../lib/errors';
import type { VerifyConfig } from '../../lib/rules/types';
import { verifyWebhook, type WebhookRequest } from '../../lib/webhook-auth';
import { registeredSchemes, type RegisteredWebhookScheme } from '../../lib/webhook-auth/registry';

/** A POST with these headers (names lower-cased, as lib/http-event.ts delivers them). */
export function webhookRequest(
  headers: Record<string, string>,
  rawBody: string | Buffer,
  url?: string,
): WebhookRequest {
  const lowerCased = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return { method: 'POST', url, headers: lowerCased, rawBody: Buffer.from(rawBody) };
}

/** The error verifyWebhook throws, for asserting its type, code and message. */
export function failure(...args: Parameters<typeof verifyWebhook>): unknown {
  try {
    verifyWebhook(...args);
  } catch (error) {
    return error;
  }
  throw new Error('verifyWebhook accepted the request');
}

/** A WebhookAuthError with `code` whose message contains none of `mustNotContain` (secrets, signatures). */
export function expectAuthError(error: unknown, code: string, ...mustNotContain: string[]): void {
  expect(error).toBeInstanceOf(WebhookAuthError);
  expect((error as WebhookAuthError).code).toBe(code);
  for (const text of mustNotContain) expect((error as Error).message).not.toContain(text);
}

/** The body with one byte changed: a signature over the original must no longer hold. */
export function tampered(body: string | Buffer): Buffer {
  const bytes = Buffer.from(body);
  bytes[bytes.length >> 1] ^= 0x01;
  return bytes;
}

/**
 * A config of `scheme` as validation produces it: its defaults, the first example of every other
 * key it requires, and secretId `s/<name>`. Any registered scheme, a new one included, gets one.
 */
export function exampleConfig(scheme: RegisteredWebhookScheme): VerifyConfig {
  // Of alternative keys (token: header or query), the first.
  const first = (scheme.options.oneOf?.[0] as { required?: string[] } | undefined)?.required ?? [];
  const required = [...(scheme.options.required ?? []), ...first];
  const values = Object.entries(scheme.options.properties).flatMap(([key, option]) => {
    const { default: fallback, examples } = option as { default?: unknown; examples?: unknown[] };
    if (key === 'secretId') return [[key, `s/${scheme.name}`]];
    if (fallback !== undefined) return [[key, fallback]];
    return required.includes(key) ? [[key, examples![0]]] : [];
  });
  return { scheme: scheme.name, ...Object.fromEntries(values) } as VerifyConfig;
}

type SecretVerifyConfig = Exclude<VerifyConfig, { scheme: 'none' }>;

/** One config of every registered scheme that takes a secret, and the generic hmac in two more forms (hex with a prefix, base64). */
export const SECRET_SCHEMES: SecretVerifyConfig[] = [
  ...registeredSchemes()
    .map(exampleConfig)
    .filter((config): config is SecretVerifyConfig => 'secretId' in config),
  {
    scheme: 'hmac',
    algorithm: 'sha256',
    header: 'X-Signature',
    prefix: 'sha256=',
    encoding: 'hex',
    secretId: 's/hmac-hex',
  },
  { scheme: 'hmac', algorithm: 'sha1', header: 'X-Hub', encoding: 'base64', secretId: 's/hmac-b64' },
];
