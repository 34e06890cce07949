/** sources.<name>.verify: which scheme authenticates a webhook source, with the fields it takes. */
import type { EventTypeSelector, VerifyConfig } from '../../lib/rules/types';
import { checkKeys, HEADER_NAME, isRecord, readPattern, SECRET_ID, unknownKey, type Report } from './report';

const ENCODINGS = ['hex', 'base64'] as const;

/** The fields each scheme takes besides `scheme`. */
type RawScheme = 'hmac-sha256' | 'standard-webhooks' | 'token' | 'basic' | 'none';
export const SCHEME_FIELDS: Record<RawScheme, { required: string[]; optional: string[] }> = {
  'hmac-sha256': { required: ['header', 'secretId'], optional: ['prefix', 'encoding'] },
  'standard-webhooks': { required: ['secretId'], optional: [] },
  token: { required: ['header', 'secretId'], optional: [] },
  basic: { required: ['secretId'], optional: [] },
  none: { required: [], optional: [] },
};
const SCHEMES = Object.keys(SCHEME_FIELDS) as RawScheme[];
const VERIFY_KEYS = ['scheme', ...new Set(Object.values(SCHEME_FIELDS).flatMap((f) => [...f.required, ...f.optional]))];


export function readVerify(raw: unknown, report: Report): VerifyConfig | undefined {
  if (raw === undefined || raw === null) {
    report.add('verify', 'is required (write `scheme: none` to accept unsigned webhooks)');
    return undefined;
  }
  if (!isRecord(raw)) {
    report.add('verify', 'must be a mapping with a `scheme`');
    return undefined;
  }
  const scheme = raw.scheme;
  if (typeof scheme !== 'string' || !SCHEMES.includes(scheme as RawScheme)) {
    report.add('verify.scheme', `must be one of ${SCHEMES.join(' | ')}`);
    checkKeys(raw, VERIFY_KEYS, report, 'verify.');
    return undefined;
  }
  const fields = SCHEME_FIELDS[scheme as RawScheme];
  const before = report.count;
  for (const key of Object.keys(raw)) {
    if (key === 'scheme' || fields.required.includes(key) || fields.optional.includes(key)) continue;
    report.add(`verify.${key}`, VERIFY_KEYS.includes(key) ? `not used by scheme ${scheme}` : unknownKey(key, VERIFY_KEYS));
  }
  for (const key of fields.required) {
    if (raw[key] === undefined || raw[key] === null) report.add(`verify.${key}`, `is required for scheme ${scheme}`);
  }
  const header = raw.header === undefined ? undefined : readPattern(raw.header, HEADER_NAME, 'an HTTP header name', 'verify.header', report);
  const secretId = raw.secretId === undefined ? undefined : readPattern(raw.secretId, SECRET_ID, 'a Secrets Manager secret name or ARN', 'verify.secretId', report);
  if (raw.prefix !== undefined && typeof raw.prefix !== 'string') report.add('verify.prefix', 'must be a string');
  if (raw.encoding !== undefined && !ENCODINGS.includes(raw.encoding as never)) {
    report.add('verify.encoding', `must be one of ${ENCODINGS.join(' | ')}`);
  }
  if (report.count > before) return undefined;

  switch (scheme as RawScheme) {
    case 'hmac-sha256':
      return {
        scheme: 'hmac',
        algorithm: 'sha256',
        header: header!,
        ...(raw.prefix !== undefined && { prefix: raw.prefix as string }),
        encoding: (raw.encoding as 'hex' | 'base64' | undefined) ?? 'hex',
        secretId: secretId!,
      };
    case 'token':
      return { scheme: 'token', header: header!, secretId: secretId! };
    case 'standard-webhooks':
      return { scheme: 'standard-webhooks', secretId: secretId!, toleranceSeconds: 300 };
    case 'basic':
      return { scheme: 'basic', secretId: secretId! };
    case 'none':
      return { scheme: 'none' };
  }
}

/** Where a scheme's vendor names the event type, when the source does not say (`eventType`). */
export function defaultEventType(_verify: VerifyConfig): EventTypeSelector | undefined {
  return undefined;
}
