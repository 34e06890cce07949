/** Where a lookup's secret goes in its request: an Authorization scheme, a header of its own, or a query parameter. */
import { ConfigError } from '../errors';
import type { LookupAuth } from '../rules/types';

export interface LookupRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: unknown;
}

/** `request` with the secret placed as `auth` says; the query form appends without re-encoding the rest of the query. */
export function authorize(lookup: string, auth: LookupAuth, secret: string, request: LookupRequest): LookupRequest {
  const url = new URL(request.url);
  const headers = { ...request.headers };
  switch (auth.in) {
    case 'bearer':
      headers.Authorization = `Bearer ${secret}`;
      break;
    case 'basic':
      if (!secret.includes(':')) {
        throw new ConfigError(
          `Lookup "${lookup}": its secret must be "user:password" for basic auth`,
          'secret_unreadable',
        );
      }
      headers.Authorization = `Basic ${Buffer.from(secret, 'utf8').toString('base64')}`;
      break;
    case 'header':
      headers[auth.name] = secret;
      break;
    case 'query':
      url.search = `${url.search}${url.search ? '&' : '?'}${encodeURIComponent(auth.name)}=${encodeURIComponent(secret)}`;
      break;
  }
  return { ...request, url, headers };
}
