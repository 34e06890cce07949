/**
 * What a preset is: a vendor's API origin, where its key goes, and how its answers become
 * HelpCrunch references. Presets read answers strictly: a 404 counts as "not found" only with the
 * vendor's own error body, a 2xx must be the record asked for, and every field a preset uses must
 * have the type the vendor documents (a list where a string belongs fails, it never names several
 * customers). So a wrong baseUrl, a proxy or a changed API fails loudly (lookup_failed) instead of
 * passing for a customer who does not exist, or for other customers. "Not found" is only what the
 * vendor documents as such, or a well-formed record that names no one.
 */
import { ConfigError } from '../../errors';
import type { LookupAuth } from '../../rules/types';
import type { LookupAnswer } from '../http';
import type { DirectRef } from '../refs';

export interface PresetApi {
  /** `path` starts with "/" and is already percent-encoded; the origin is the lookup's. */
  get(path: string): Promise<LookupAnswer>;
  post(path: string, body: unknown): Promise<LookupAnswer>;
  /** true for a 404 that carries the vendor's error body, false for a 2xx; throws for a 404 without it. */
  notFound(answer: LookupAnswer, isVendorError: (body: unknown) => boolean): boolean;
  /** `value` when it is of the documented type `is` checks; otherwise lookup_failed: the 2xx answer is not `what`. */
  read<T>(value: unknown, is: (value: unknown) => value is T, what: string): T;
}

/** The documented types presets check the fields they read against. */
export const isString = (value: unknown): value is string => typeof value === 'string';
export const isStringOrNull = (value: unknown): value is string | null => value === null || isString(value);
export const listOf =
  <T>(is: (value: unknown) => value is T) =>
  (value: unknown): value is T[] =>
    Array.isArray(value) && value.every(is);

export interface Preset {
  vendor: string;
  defaultBaseUrl: string;
  auth: LookupAuth;
  resolve(id: string, api: PresetApi): Promise<DirectRef[]>;
}

/** The PresetApi of one resolve: requests go to `origin`, failures name the lookup and the vendor. */
export function presetApi(
  lookup: string,
  vendor: string,
  origin: string,
  send: (method: 'GET' | 'POST', url: URL, body?: unknown) => Promise<LookupAnswer>,
): PresetApi {
  const failed = (message: string) => new ConfigError(`Lookup "${lookup}": ${message}`, 'lookup_failed');
  return {
    get: (path) => send('GET', new URL(`${origin}${path}`)),
    post: (path, body) => send('POST', new URL(`${origin}${path}`), body),
    notFound(answer, isVendorError) {
      if (answer.status !== 404) return false;
      if (isVendorError(answer.body)) return true;
      throw failed(`${new URL(origin).host} answered 404 without ${vendor}'s error body: check the lookup's baseUrl`);
    },
    read(value, is, what) {
      if (!is(value)) throw failed(`${new URL(origin).host} answered without ${what}`);
      return value;
    },
  };
}
