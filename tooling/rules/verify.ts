/** sources.<name>.verify: which scheme authenticates a webhook source, with the fields it takes (lib/webhook-auth/registry.ts). */
import type { HmacAlgorithm, VerifyConfig } from '../../lib/rules/types';
import { isRecord } from '../../lib/json';
import { HMAC_ALGORITHMS } from '../../lib/webhook-auth/hmac';
import { MAX_TOLERANCE_SECONDS } from '../../lib/webhook-auth/options';
import { registeredSchemes, type RegisteredWebhookScheme } from '../../lib/webhook-auth/registry';
import { checkKeys, HEADER_NAME, readPattern, SECRET_ID, unknownKey, type Report } from './report';

export { MAX_TOLERANCE_SECONDS };

const ENCODINGS = ['hex', 'base64'] as const;

/** A name rules.yml may give a scheme: the scheme's own, or an alias that fixes some of its options. */
interface SchemeName {
  scheme: RegisteredWebhookScheme;
  fixed: Readonly<Record<string, string>>;
  required: string[];
  optional: string[];
}

function schemeNames(): Map<string, SchemeName> {
  const names = new Map<string, SchemeName>();
  for (const scheme of registeredSchemes()) {
    for (const [name, fixed] of [[scheme.name, {}] as const, ...Object.entries(scheme.aliases ?? {})]) {
      const keys = Object.keys(scheme.options.properties).filter((key) => !Object.hasOwn(fixed, key));
      const required = (scheme.options.required ?? []).filter((key) => keys.includes(key));
      names.set(name, { scheme, fixed, required, optional: keys.filter((key) => !required.includes(key)) });
    }
  }
  return names;
}

/** Every scheme name rules.yml takes, each with the fields it takes besides `scheme`. */
export const SCHEME_NAMES = schemeNames();
const VERIFY_KEYS = [
  'scheme',
  ...new Set([...SCHEME_NAMES.values()].flatMap(({ required, optional }) => [...required, ...optional])),
];

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
  const name = typeof raw.scheme === 'string' ? SCHEME_NAMES.get(raw.scheme) : undefined;
  if (!name) {
    report.add('verify.scheme', `must be one of ${[...SCHEME_NAMES.keys()].join(' | ')}`);
    checkKeys(raw, VERIFY_KEYS, report, 'verify.');
    return undefined;
  }
  const before = report.count;
  checkSchemeKeys(raw, raw.scheme as string, name, report);
  const fields = readFields(raw, report);
  if (report.count > before) return undefined;
  return toConfig(name, fields);
}

/** Unknown keys, keys another scheme takes, and missing required keys, each by name. */
function checkSchemeKeys(
  raw: Record<string, unknown>,
  scheme: string,
  { required, optional }: SchemeName,
  report: Report,
): void {
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
    if (HMAC_ALGORITHMS.includes(raw.algorithm as HmacAlgorithm)) fields.algorithm = raw.algorithm as HmacAlgorithm;
    else report.add('verify.algorithm', `must be one of ${HMAC_ALGORITHMS.join(' | ')}`);
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

/** The scheme's config: its defaults, what the name fixes, and the fields given. */
function toConfig({ scheme, fixed }: SchemeName, fields: VerifyFields): VerifyConfig {
  const defaults = Object.entries(scheme.options.properties).flatMap(([key, option]) =>
    typeof option === 'object' && 'default' in option ? [[key, option.default]] : [],
  );
  const given = Object.entries(fields).filter(([, value]) => value !== undefined);
  return {
    scheme: scheme.name,
    ...Object.fromEntries(defaults),
    ...fixed,
    ...Object.fromEntries(given),
  } as VerifyConfig;
}
