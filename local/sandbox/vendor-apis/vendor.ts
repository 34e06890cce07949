/** What each vendor module of the stand-in gets and gives: one parsed request in, one JSON reply out. */
import type { IncomingHttpHeaders } from 'node:http';

export interface VendorRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body, undefined when there is none; `invalidJson` when it did not parse. */
  body: unknown;
}

export interface VendorReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export const invalidJson = Symbol('invalid JSON');

/** The path's segments after `prefix`, decoded once as a server would, or undefined when the path is elsewhere. */
export function segmentsAfter(url: URL, prefix: string): string[] | undefined {
  if (!url.pathname.startsWith(prefix)) return undefined;
  try {
    return url.pathname.slice(prefix.length).split('/').map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

/** The token of `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  return /^Bearer (\S+)$/.exec(headers.authorization ?? '')?.[1];
}
