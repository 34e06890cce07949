/**
 * `lookups`: how a sender's own id (Stripe `cus_…`, a Pipedrive person id) becomes a HelpCrunch
 * customer reference, through the sender's API. A preset knows its vendor's endpoint and answer;
 * a generic lookup gives a URL template, how to authenticate, and what to select. Their shape is
 * lib/rules/shape.ts's; here is what it cannot say, and their validated form.
 */
import { isRecord } from '../../lib/json';
import { DEFAULT_CACHE_SECONDS } from '../../lib/rules/shape';
import type { DirectCustomerKind, LookupAuth, LookupConfig, LookupPreset } from '../../lib/rules/types';
import { checkExpression, readServiceUrl, type Report } from './report';

/** The one placeholder a URL template may hold; the payload's value goes there and nowhere else. */
const ID = '{id}';
const AUTH_KINDS = ['bearer', 'basic', 'header', 'query'] as const;
const SELECT_KEYS: readonly DirectCustomerKind[] = ['email', 'userId', 'helpcrunchId'];

/** The secret named exactly once (beside or inside `auth`), a usable base URL or URL template, select's JMESPath. */
export function checkLookup(raw: unknown, report: Report): void {
  if (!isRecord(raw)) return;
  const inside = isRecord(raw.auth) ? raw.auth.secretId : undefined;
  if (raw.secretId !== undefined && inside !== undefined)
    report.add('secretId', 'is given twice (beside and inside auth)');
  if (raw.url !== undefined && raw.preset === undefined && raw.secretId === undefined && inside === undefined)
    report.add('secretId', 'is required (beside or inside auth): a Secrets Manager secret name or ARN');
  if (typeof raw.baseUrl === 'string') checkBaseUrl(raw.baseUrl, report);
  if (typeof raw.url === 'string') checkUrlTemplate(raw.url, report);
  if (isRecord(raw.select)) {
    for (const key of SELECT_KEYS) {
      const expression = raw.select[key];
      if (typeof expression === 'string') checkExpression(expression, `select.${key}`, report);
    }
  }
}

/** The API's origin only: the preset adds its own versioned path. */
function checkBaseUrl(raw: string, report: Report): void {
  const url = readServiceUrl(raw, 'baseUrl', report);
  if (url && (url.pathname !== '/' || url.search))
    report.add('baseUrl', `must be an origin only, e.g. ${url.origin} (the preset adds its own path)`);
}

/**
 * https URL with exactly one `{id}`, as a whole path segment or a whole query value: the id can
 * then never change the origin, and is percent-encoded into its one place.
 */
function checkUrlTemplate(raw: string, report: Report): void {
  const count = raw.split(ID).length - 1;
  if (count !== 1) {
    report.add('url', `must contain ${ID} exactly once, got ${count}`);
    return;
  }
  if (/[{}]/.test(raw.replace(ID, ''))) {
    report.add('url', `must contain no placeholder other than ${ID}`);
    return;
  }
  const marker = 'lookup-id-placeholder';
  const url = readServiceUrl(raw.replace(ID, marker), 'url', report);
  if (!url) return;
  const inPath = url.pathname.split('/').includes(marker);
  const inQuery = [...url.searchParams.values()].includes(marker);
  if (!inPath && !inQuery)
    report.add(
      'url',
      `${ID} must be a whole path segment or a whole query value (not in the host, not part of a word)`,
    );
}

/** A valid lookup in its validated form: the secret wherever it was named, the cache default filled in. */
export function toLookup(raw: Record<string, unknown>): LookupConfig {
  const cacheSeconds = (raw.cacheSeconds as number | undefined) ?? DEFAULT_CACHE_SECONDS;
  if (raw.preset !== undefined) {
    return {
      preset: raw.preset as LookupPreset,
      ...(typeof raw.baseUrl === 'string' && { baseUrl: new URL(raw.baseUrl).origin }),
      secretId: raw.secretId as string,
      cacheSeconds,
    };
  }
  const auth = raw.auth as Record<string, unknown>;
  const select = raw.select as Record<string, string>;
  const by = SELECT_KEYS.find((key) => select[key] !== undefined)!;
  return {
    url: raw.url as string,
    auth: toAuth(auth),
    secretId: (raw.secretId ?? auth.secretId) as string,
    select: { by, expression: select[by]! },
    cacheSeconds,
  };
}

function toAuth(raw: Record<string, unknown>): LookupAuth {
  const kind = AUTH_KINDS.find((key) => raw[key] !== undefined)!;
  return kind === 'bearer' || kind === 'basic' ? { in: kind } : { in: kind, name: raw[kind] as string };
}
