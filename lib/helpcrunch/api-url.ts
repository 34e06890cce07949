import { ConfigError } from '../errors';
import { isSecureTransport } from '../http/secure-url';

export const defaultApiUrl = 'https://api.helpcrunch.com/v1';

/**
 * HELPCRUNCH_API_URL, validated: https (or http to loopback), no credentials/query, and the API's
 * `/v1` base path. Without /v1 every call answers 404, which must never pass for "customer not found".
 * Messages never echo the value: it could carry credentials.
 */
export function parseApiUrl(value: string | undefined): string {
  const text = value?.trim();
  if (!text) return defaultApiUrl;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError('HELPCRUNCH_API_URL is not a valid URL', 'invalid_api_url');
  }
  // Anywhere but this machine, plain http would send the key in clear.
  if (!isSecureTransport(url)) {
    throw new ConfigError('HELPCRUNCH_API_URL must use https (plain http only to a loopback host)', 'invalid_api_url');
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new ConfigError('HELPCRUNCH_API_URL must not carry credentials, a query or a fragment', 'invalid_api_url');
  }
  if (url.pathname.replace(/\/+$/, '') !== '/v1') {
    throw new ConfigError(`HELPCRUNCH_API_URL must be the API's /v1 base, e.g. ${defaultApiUrl}`, 'invalid_api_url');
  }
  return `${url.origin}/v1`;
}
