/**
 * What a preset is: a vendor's API origin, where its key goes, and how its answers become
 * HelpCrunch references. Presets read answers strictly: a 404 counts as "not found" only with the
 * vendor's own error body, and a 2xx must be the record asked for, so a wrong baseUrl or a proxy
 * fails loudly instead of passing for a customer who does not exist.
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
  /** Throws lookup_failed unless `ok`: the 2xx answer is not `what` the preset asked for. */
  expect(ok: boolean, what: string): void;
}

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
    expect(ok, what) {
      if (!ok) throw failed(`${new URL(origin).host} answered without ${what}`);
    },
  };
}
