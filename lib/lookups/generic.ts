/**
 * A lookup rules.yml spells out: a URL template with one `{id}` (a whole path segment or a whole
 * query value, checked at build time), how to send the secret, and a JMESPath selecting the
 * reference in the JSON answer. Any 404 is "not found": a generic API's error body is unknown. A
 * 2xx always has a JSON body here (lib/lookups/http.ts fails an empty one, or a 204: no record).
 */
import { JMESPathError } from '@aws-lambda-powertools/jmespath';
import { ConfigError } from '../errors';
import { evaluate } from '../rules/jmespath';
import type { LookupConfig } from '../rules/types';
import type { LookupRequest } from './auth';
import type { LookupAnswer } from './http';
import { toRefs, type DirectRef } from './refs';

export type GenericLookup = Extract<LookupConfig, { url: string }>;

const ID = '{id}';

/**
 * The template with the id percent-encoded into its one place: as a path segment or a query value,
 * encodeURIComponent leaves no "/", "?", "#", "&" or "%" that could change the URL's shape. The
 * origin comes from the template alone.
 */
export function lookupUrl(template: string, id: string): URL {
  const at = template.indexOf(ID);
  const url = new URL(`${template.slice(0, at)}${encodeURIComponent(id)}${template.slice(at + ID.length)}`);
  url.hash = '';
  return url;
}

export function genericRequest(config: GenericLookup, id: string): LookupRequest {
  return { method: 'GET', url: lookupUrl(config.url, id), headers: {} };
}

/** The references `select` picks from a 2xx answer's record; a 404 or an empty selection finds no one. */
export function selectRefs(lookup: string, config: GenericLookup, answer: LookupAnswer): DirectRef[] {
  if (answer.status === 404) return [];
  const { by, expression } = config.select;
  let selection: unknown;
  try {
    selection = evaluate(expression, answer.body);
  } catch (error) {
    if (!(error instanceof JMESPathError || error instanceof RangeError)) throw error;
    const reason = error instanceof JMESPathError ? error.message : 'the answer is nested too deeply';
    throw new ConfigError(
      `Lookup "${lookup}": select.${by} (${expression}) failed on the answer: ${reason}`,
      'lookup_failed',
    );
  }
  return toRefs(by, selection);
}
