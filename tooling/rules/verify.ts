/** sources.<name>.verify: which scheme authenticates a webhook source, with the fields it takes. */
import type { EventTypeSelector, HmacAlgorithm, VerifyConfig } from '../../lib/rules/types';
import { isRecord } from '../../lib/json';
import { checkKeys, HEADER_NAME, readPattern, SECRET_ID, unknownKey, type Report } from './report';

const ALGORITHMS: readonly HmacAlgorithm[] = ['sha1', 'sha256', 'sha512'];
const ENCODINGS = ['hex', 'base64'] as const;

/** Timestamped schemes: the replay window each vendor documents, in seconds. */
export const DEFAULT_TOLERANCE_SECONDS = {
  stripe: 300,
  // Calendly's verification example rejects signatures older than three minutes.
  calendly: 180,
  // Paddle's SDKs allow 5 s: tight behind a cold start, so `toleranceSeconds` widens it.
  paddle: 5,
  'hubspot-v3': 300,
  'standard-webhooks': 300,
} as const;
/** A wider window than an hour no longer protects against replays. */
export const MAX_TOLERANCE_SECONDS = 3600;

type TimestampedScheme = keyof typeof DEFAULT_TOLERANCE_SECONDS;

/** The fields each scheme takes besides `scheme` (`hmac-sha256` is `hmac` with algorithm sha256). */
export const SCHEME_FIELDS = {
  hmac: { required: ['algorithm', 'header', 'secretId'], optional: ['prefix', 'encoding'] },
  'hmac-sha256': { required: ['header', 'secretId'], optional: ['prefix', 'encoding'] },
  stripe: { required: ['secretId'], optional: ['toleranceSeconds'] },
  calendly: { required: ['secretId'], optional: ['toleranceSeconds'] },
  paddle: { required: ['secretId'], optional: ['toleranceSeconds'] },
  'hubspot-v3': { required: ['secretId'], optional: ['toleranceSeconds', 'publicUrl'] },
  helpcrunch: { required: ['secretId'], optional: [] },
  github: { required: ['secretId'], optional: [] },
  shopify: { required: ['secretId'], optional: [] },
  'standard-webhooks': { required: ['secretId'], optional: ['toleranceSeconds'] },
  token: { required: ['header', 'secretId'], optional: [] },
  basic: { required: ['secretId'], optional: [] },
  none: { required: [], optional: [] },
} satisfies Record<string, { required: string[]; optional: string[] }>;

type RawScheme = keyof typeof SCHEME_FIELDS;
const SCHEMES = Object.keys(SCHEME_FIELDS) as RawScheme[];
const VERIFY_KEYS = ['scheme', ...new Set(Object.values(SCHEME_FIELDS).flatMap((f) => [...f.required, ...f.optional]))];

/** What every scheme's fields read as, once each has been checked on its own. */
interface VerifyFields {
  algorithm?: HmacAlgorithm;
  header?: string;
  prefix?: string;
  encoding?: 'hex' | 'base64';
  secretId?: string;
  toleranceSeconds?: number;
  publicUrl?: string;
}

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
  if (typeof scheme !== 'string' || !Object.hasOwn(SCHEME_FIELDS, scheme)) {
    report.add('verify.scheme', `must be one of ${SCHEMES.join(' | ')}`);
    checkKeys(raw, VERIFY_KEYS, report, 'verify.');
    return undefined;
  }
  const before = report.count;
  checkSchemeKeys(raw, scheme as RawScheme, report);
  const fields = readFields(raw, report);
  if (report.count > before) return undefined;
  return toConfig(scheme as RawScheme, fields);
}

/** Unknown keys, keys another scheme takes, and missing required keys, each by name. */
function checkSchemeKeys(raw: Record<string, unknown>, scheme: RawScheme, report: Report): void {
  const { required, optional } = SCHEME_FIELDS[scheme] as { required: string[]; optional: string[] };
  for (const key of Object.keys(raw)) {
    if (key === 'scheme' || required.includes(key) || optional.includes(key)) continue;
    report.add(
      `verify.${key}`,
      VERIFY_KEYS.includes(key) ? `not used by scheme ${scheme}` : unknownKey(key, VERIFY_KEYS),
    );
  }
  for (const key of required) {
    if (raw[key] === undefined || raw[key] === null) report.add(`verify.${key}`, `is required for scheme ${scheme}`);
  }
}

function readFields(raw: Record<string, unknown>, report: Report): VerifyFields {
  const fields: VerifyFields = {};
  if (raw.algorithm != null) {
    if (ALGORITHMS.includes(raw.algorithm as HmacAlgorithm)) fields.algorithm = raw.algorithm as HmacAlgorithm;
    else report.add('verify.algorithm', `must be one of ${ALGORITHMS.join(' | ')}`);
  }
  if (raw.header != null)
    fields.header = readPattern(raw.header, HEADER_NAME, 'an HTTP header name', 'verify.header', report);
  if (raw.secretId != null) {
    fields.secretId = readPattern(
      raw.secretId,
      SECRET_ID,
      'a Secrets Manager secret name or ARN',
      'verify.secretId',
      report,
    );
  }
  if (raw.prefix !== undefined) {
    if (typeof raw.prefix === 'string') fields.prefix = raw.prefix;
    else report.add('verify.prefix', 'must be a string');
  }
  if (raw.encoding !== undefined) {
    if (ENCODINGS.includes(raw.encoding as never)) fields.encoding = raw.encoding as 'hex' | 'base64';
    else report.add('verify.encoding', `must be one of ${ENCODINGS.join(' | ')}`);
  }
  if (raw.toleranceSeconds !== undefined) fields.toleranceSeconds = readTolerance(raw.toleranceSeconds, report);
  if (raw.publicUrl !== undefined) fields.publicUrl = readPublicUrl(raw.publicUrl, report);
  return fields;
}

function readTolerance(raw: unknown, report: Report): number | undefined {
  if (Number.isInteger(raw) && (raw as number) > 0 && (raw as number) <= MAX_TOLERANCE_SECONDS) return raw as number;
  report.add('verify.toleranceSeconds', `must be a whole number of seconds from 1 to ${MAX_TOLERANCE_SECONDS}`);
  return undefined;
}

/**
 * hubspot-v3's `publicUrl`: the target URL exactly as configured in HubSpot, when HubSpot calls a
 * custom domain or proxy rather than the API's own URL. The request's query string is appended
 * to it when verifying, so it carries none itself.
 */
function readPublicUrl(raw: unknown, report: Report): string | undefined {
  const problem = publicUrlProblem(raw);
  if (problem === undefined) return raw as string;
  report.add('verify.publicUrl', problem);
  return undefined;
}

function publicUrlProblem(raw: unknown): string | undefined {
  const what = 'must be the https:// URL HubSpot calls, e.g. https://hooks.example.com/webhooks/hubspot';
  if (typeof raw !== 'string' || !URL.canParse(raw)) return what;
  const url = new URL(raw);
  if (url.protocol !== 'https:') return what;
  if (raw.includes('?') || raw.includes('#'))
    return "must not carry a query or fragment (the request's own query is appended)";
  return undefined;
}

function toConfig(scheme: RawScheme, fields: VerifyFields): VerifyConfig {
  const secretId = fields.secretId!;
  const tolerance = (name: TimestampedScheme) => fields.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS[name];
  switch (scheme) {
    case 'hmac':
    case 'hmac-sha256':
      return {
        scheme: 'hmac',
        algorithm: fields.algorithm ?? 'sha256',
        header: fields.header!,
        ...(fields.prefix !== undefined && { prefix: fields.prefix }),
        encoding: fields.encoding ?? 'hex',
        secretId,
      };
    case 'stripe':
    case 'calendly':
    case 'paddle':
    case 'standard-webhooks':
      return { scheme, secretId, toleranceSeconds: tolerance(scheme) };
    case 'hubspot-v3':
      return {
        scheme,
        secretId,
        toleranceSeconds: tolerance(scheme),
        ...(fields.publicUrl !== undefined && { publicUrl: fields.publicUrl }),
      };
    case 'helpcrunch':
    case 'github':
    case 'shopify':
    case 'basic':
      return { scheme, secretId };
    case 'token':
      return { scheme, header: fields.header!, secretId };
    case 'none':
      return { scheme };
  }
}

/** Where a scheme's vendor names the event type, when the source does not say (`eventType`). */
export function defaultEventType(verify: VerifyConfig): EventTypeSelector | undefined {
  switch (verify.scheme) {
    case 'stripe':
    case 'standard-webhooks':
      return { field: 'type' };
    case 'paddle':
      return { field: 'event_type' };
    case 'helpcrunch':
    case 'calendly':
      return { field: 'event' };
    // Each element of HubSpot's batch carries its own.
    case 'hubspot-v3':
      return { field: 'subscriptionType' };
    case 'github':
      return { header: 'X-GitHub-Event' };
    case 'shopify':
      return { header: 'X-Shopify-Topic' };
    default:
      return undefined;
  }
}
