/** Where this function may send credentials: https anywhere, plain http only to this machine (local stand-ins, tests). */
const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function isSecureTransport(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && loopbackHosts.has(url.hostname));
}
