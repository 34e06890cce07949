const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** A URL on this machine: the local stand-ins. */
export const isLoopback = (url: URL): boolean => loopbackHosts.has(url.hostname);

/** Where this function may send credentials: https anywhere, plain http only to this machine (local stand-ins, tests). */
export function isSecureTransport(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url));
}
