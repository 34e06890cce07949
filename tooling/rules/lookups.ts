/**
 * `lookups`: how a sender's own id (Stripe `cus_…`, a Pipedrive person id) becomes a HelpCrunch
 * customer reference, through the sender's API. A preset knows its vendor's endpoint and answer;
 * a generic lookup gives a URL template, how to authenticate, and what to select.
 */
import {
  LOOKUP_PRESETS,
  type DirectCustomerKind,
  type LookupAuth,
  type LookupConfig,
  type LookupPreset,
} from '../../lib/rules/types';
import { isRecord } from '../../lib/json';
import {
  checkKeys,
  didYouMean,
  HEADER_NAME,
  readExpression,
  readInteger,
  readPattern,
  readSection,
  readServiceUrl,
  SECRET_ID,
  type Findings,
  type Report,
} from './report';

export const PRESET_KEYS = ['preset', 'baseUrl', 'secretId', 'cacheSeconds'] as const;
export const GENERIC_KEYS = ['url', 'auth', 'secretId', 'select', 'cacheSeconds'] as const;
export const AUTH_KINDS = ['bearer', 'basic', 'header', 'query'] as const;
export const SELECT_KEYS: readonly DirectCustomerKind[] = ['email', 'userId', 'helpcrunchId'];
export const LOOKUP_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
export const DEFAULT_CACHE_SECONDS = 300;
/** The one placeholder a URL template may hold; the payload's value goes there and nowhere else. */
const ID = '{id}';
/** A query parameter name: RFC 3986 unreserved characters. */
const QUERY_NAME = /^[A-Za-z0-9._~-]+$/;

export function readLookups(raw: unknown, top: Report, findings: Findings): Record<string, LookupConfig> {
  const section = {
    key: 'lookups',
    shape: 'lookup name to { preset | url, … }',
    name: LOOKUP_NAME,
    nameRule: 'name must be letters, digits, "_" or "-"',
  };
  return readSection(raw, section, top, findings, (entry, report) => {
    if (isRecord(entry)) return readLookup(entry, report);
    report.add('', 'must be a mapping with `preset` or `url`');
    return undefined;
  });
}

function readLookup(raw: Record<string, unknown>, report: Report): LookupConfig | undefined {
  const before = report.count;
  if ((raw.preset === undefined) === (raw.url === undefined)) {
    report.add('', 'needs exactly one of `preset` (a vendor API) or `url` (any JSON API)');
    return undefined;
  }
  // A generic lookup may name its secret inside `auth` (`auth: {query: api_token, secretId: …}`).
  const authSecretId = isRecord(raw.auth) ? raw.auth.secretId : undefined;
  if (raw.secretId !== undefined && authSecretId !== undefined)
    report.add('secretId', 'is given twice (beside and inside auth)');
  const secretId = readPattern(
    raw.secretId ?? authSecretId,
    SECRET_ID,
    'a Secrets Manager secret name or ARN',
    'secretId',
    report,
  );
  const cacheSeconds =
    raw.cacheSeconds === undefined
      ? DEFAULT_CACHE_SECONDS
      : readInteger(raw.cacheSeconds, 'cacheSeconds', report, 0, 86_400);

  if (raw.preset !== undefined) {
    checkKeys(raw, PRESET_KEYS, report);
    const preset = readPreset(raw.preset, report);
    const baseUrl = raw.baseUrl === undefined ? undefined : readBaseUrl(raw.baseUrl, report);
    if (report.count > before) return undefined;
    return {
      preset: preset!,
      ...(baseUrl !== undefined && { baseUrl }),
      secretId: secretId!,
      cacheSeconds: cacheSeconds!,
    };
  }

  checkKeys(raw, GENERIC_KEYS, report);
  const url = readUrlTemplate(raw.url, report);
  const auth = readAuth(raw.auth, report);
  const select = readSelect(raw.select, report);
  if (report.count > before) return undefined;
  return { url: url!, auth: auth!, secretId: secretId!, select: select!, cacheSeconds: cacheSeconds! };
}

function readPreset(raw: unknown, report: Report): LookupPreset | undefined {
  if (typeof raw === 'string' && (LOOKUP_PRESETS as readonly string[]).includes(raw)) return raw as LookupPreset;
  const near = typeof raw === 'string' ? didYouMean(raw, LOOKUP_PRESETS) : undefined;
  report.add('preset', `must be one of ${LOOKUP_PRESETS.join(' | ')}${near ? ` (did you mean ${near}?)` : ''}`);
  return undefined;
}

/** The API's origin only: the preset adds its own versioned path. */
function readBaseUrl(raw: unknown, report: Report): string | undefined {
  const url = readServiceUrl(raw, 'baseUrl', report);
  if (!url) return undefined;
  if (url.pathname !== '/' || url.search) {
    report.add('baseUrl', `must be an origin only, e.g. ${url.origin} (the preset adds its own path)`);
    return undefined;
  }
  return url.origin;
}

/**
 * https URL with exactly one `{id}`, as a whole path segment or a whole query value: the id can
 * then never change the origin, and is percent-encoded into its one place.
 */
function readUrlTemplate(raw: unknown, report: Report): string | undefined {
  if (typeof raw !== 'string') {
    report.add('url', `must be an https URL with one ${ID} placeholder`);
    return undefined;
  }
  const count = raw.split(ID).length - 1;
  if (count !== 1) {
    report.add('url', `must contain ${ID} exactly once, got ${count}`);
    return undefined;
  }
  if (/[{}]/.test(raw.replace(ID, ''))) {
    report.add('url', `must contain no placeholder other than ${ID}`);
    return undefined;
  }
  const marker = 'lookup-id-placeholder';
  const url = readServiceUrl(raw.replace(ID, marker), 'url', report);
  if (!url) return undefined;
  const inPath = url.pathname.split('/').includes(marker);
  const inQuery = [...url.searchParams.values()].includes(marker);
  if (!inPath && !inQuery) {
    report.add(
      'url',
      `${ID} must be a whole path segment or a whole query value (not in the host, not part of a word)`,
    );
    return undefined;
  }
  return raw;
}

function readAuth(raw: unknown, report: Report): LookupAuth | undefined {
  const shape =
    'must be {bearer: true}, {basic: true} (secret "user:password"), {header: <name>} or {query: <parameter>}, with secretId beside it';
  if (!isRecord(raw)) {
    report.add('auth', shape);
    return undefined;
  }
  checkKeys(raw, [...AUTH_KINDS, 'secretId'], report, 'auth.');
  const given = AUTH_KINDS.filter((kind) => raw[kind] !== undefined);
  if (given.length !== 1) {
    report.add('auth', shape);
    return undefined;
  }
  const kind = given[0]!;
  if (kind === 'bearer' || kind === 'basic') {
    if (raw[kind] !== true) report.add(`auth.${kind}`, 'must be true');
    return raw[kind] === true ? { in: kind } : undefined;
  }
  const pattern = kind === 'header' ? HEADER_NAME : QUERY_NAME;
  const name = readPattern(
    raw[kind],
    pattern,
    kind === 'header' ? 'an HTTP header name' : 'a query parameter name',
    `auth.${kind}`,
    report,
  );
  return name === undefined ? undefined : { in: kind, name };
}

function readSelect(raw: unknown, report: Report): { by: DirectCustomerKind; expression: string } | undefined {
  const required = `exactly one of ${SELECT_KEYS.join(' | ')}: a JMESPath into the API's JSON answer`;
  if (!isRecord(raw)) {
    report.add('select', raw === undefined ? `is required: ${required}` : `must be a mapping: ${required}`);
    return undefined;
  }
  checkKeys(raw, SELECT_KEYS, report, 'select.');
  const given = SELECT_KEYS.filter((key) => raw[key] !== undefined);
  if (given.length !== 1) {
    report.add('select', required);
    return undefined;
  }
  const by = given[0]!;
  const expression = readExpression(raw[by], `select.${by}`, report);
  return expression === undefined ? undefined : { by, expression };
}
