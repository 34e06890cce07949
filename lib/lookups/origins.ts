/**
 * LOOKUP_ORIGINS, for local runs and tests: `{"<lookup name>": "<origin>"}` sends a lookup's
 * requests to another origin (a vendor API stand-in) instead of its preset's baseUrl or its
 * generic URL's. Only the origin changes: paths, queries and `{id}` stay as rules.yml has them.
 * Values are checked as `baseUrl` is at build time; messages name the lookup, never the value.
 */
import { ConfigError } from '../errors';
import type { LookupConfig } from '../rules/types';
import { isSecureTransport } from '../http/secure-url';

const invalid = (problem: string) => new ConfigError(`LOOKUP_ORIGINS ${problem}`, 'invalid_lookup_origins');

/** The variable's origins by lookup name ({} when unset), each normalised to `scheme://host[:port]`. */
export function parseLookupOrigins(raw: string | undefined): Record<string, string> {
  const text = raw?.trim();
  if (!text) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('is not JSON: expected {"<lookup name>": "<origin>"}');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('must be a JSON object {"<lookup name>": "<origin>"}');
  const origins: Record<string, string> = {};
  for (const [lookup, origin] of Object.entries(value)) origins[lookup] = readOrigin(lookup, origin);
  return origins;
}

function readOrigin(lookup: string, raw: unknown): string {
  const problem = (text: string) => invalid(`for lookup "${lookup}" ${text}`);
  if (typeof raw !== 'string' || !URL.canParse(raw)) throw problem('must be an absolute URL');
  const url = new URL(raw);
  if (!isSecureTransport(url)) throw problem('must use https (plain http only to a loopback host)');
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
    throw problem('must be an origin only (scheme, host and port; no credentials, path or query)');
  }
  return url.origin;
}

// A stand-in for `{id}` that URL parsing leaves as it is, so the template's path and query can be read.
const ID = '{id}';
const marker = 'lookup-id-placeholder';

/** The template's path and query (with `{id}`) after another origin. */
function rebased(template: string, origin: string): string {
  const url = new URL(template.replace(ID, marker));
  return `${origin}${url.pathname}${url.search}`.replace(marker, ID);
}

/** The lookups with the origins replaced; a name rules.yml has no lookup for is a ConfigError. */
export function withOrigins(
  lookups: Record<string, LookupConfig>,
  origins: Record<string, string>,
): Record<string, LookupConfig> {
  const result = { ...lookups };
  for (const [name, origin] of Object.entries(origins)) {
    const config = Object.hasOwn(lookups, name) ? lookups[name] : undefined;
    if (!config) throw invalid(`names "${name}", which is not a lookup in rules.yml`);
    result[name] = 'url' in config ? { ...config, url: rebased(config.url, origin) } : { ...config, baseUrl: origin };
  }
  return result;
}
