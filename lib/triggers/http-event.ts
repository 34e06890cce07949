import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { BadEventError, PayloadTooLargeError } from '../errors';

/** One HTTP trigger event, whichever front door (HTTP API 2.0, REST API 1.0, Function URL) it came through. */
export interface HttpRequest {
  method: string;
  path: string;
  /** `<source>` of `/webhooks/<source>`; undefined when the path has no such segment. */
  source: string | undefined;
  /** Lower-cased names. */
  headers: Record<string, string>;
  /** Exact bytes the sender signed. */
  rawBody: Buffer;
  /**
   * The URL the sender called, as far as the event tells (https, the API's domain, the path with
   * any stage prefix, the query string): HubSpot signs it. Undefined when the event has no domain.
   * It may carry a secret (a `token` source's query parameter): never log it.
   */
  url: string | undefined;
  /** The query string as sent, without `?` ('' when none). May carry a secret: never log it. */
  query: string;
  requestId?: string;
}

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

type HttpEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent;

export function parseHttpEvent(event: HttpEvent, options: { maxBodyBytes?: number } = {}): HttpRequest {
  const rawBody = decodeBody(event.body, event.isBase64Encoded, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  // 2.0 payloads (HTTP API, Function URL) carry rawPath; 1.0 payloads (REST API) carry path/httpMethod.
  const isV2 = 'rawPath' in event;
  const path = isV2 ? event.rawPath : event.path;
  const query = queryOf(event);
  return {
    method: isV2 ? event.requestContext.http.method : event.httpMethod,
    path,
    source: event.pathParameters?.source ?? sourceFromPath(path),
    headers: isV2 ? lowerCaseHeaders(event.headers) : lowerCaseHeaders(event.headers, event.multiValueHeaders),
    rawBody,
    url: calledUrl(event, query),
    query,
    requestId: event.requestContext?.requestId,
  };
}

/**
 * 2.0 events keep the query as sent (rawQueryString); 1.0 events only decoded parameters, rebuilt
 * here in their order.
 */
function queryOf(event: HttpEvent): string {
  if ('rawPath' in event) return event.rawQueryString ?? '';
  const query = new URLSearchParams();
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    for (const value of values ?? []) query.append(name, value);
  }
  return query.toString();
}

/** A REST API's `requestContext.path` includes the stage, `path` does not. */
function calledUrl(event: HttpEvent, query: string): string | undefined {
  const domain = event.requestContext?.domainName;
  if (!domain) return undefined;
  const path = 'rawPath' in event ? event.rawPath : (event.requestContext.path ?? event.path);
  return `https://${domain}${path}${query ? `?${query}` : ''}`;
}

/**
 * Headers keyed by lower-cased name. In 1.0 payloads `headers` keeps only the last value of a
 * repeated header, so multiValueHeaders wins, joined with ',' as 2.0 payloads already do.
 */
function lowerCaseHeaders(
  headers: Record<string, string | undefined> | null | undefined,
  multiValueHeaders?: Record<string, string[] | undefined> | null,
): Record<string, string> {
  const entries: [string, string][] = [];
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value != null) entries.push([name.toLowerCase(), value]);
  }
  for (const [name, values] of Object.entries(multiValueHeaders ?? {})) {
    if (values?.length) entries.push([name.toLowerCase(), values.join(',')]);
  }
  // fromEntries defines own properties, so a header named "__proto__" cannot touch the prototype.
  return Object.fromEntries(entries);
}

/** `/webhooks/<source>` anywhere at the end of the path, so a stage or base-path prefix is ignored. */
function sourceFromPath(path: string): string | undefined {
  const segments = path.split('/').filter(Boolean);
  if (segments.length < 2 || segments[segments.length - 2] !== 'webhooks') return undefined;
  try {
    return decodeURIComponent(segments[segments.length - 1]);
  } catch {
    throw new BadEventError('invalid_path', 'Request path contains malformed percent-encoding');
  }
}

function decodeBody(body: string | null | undefined, isBase64Encoded: boolean, maxBodyBytes: number): Buffer {
  if (!body) return Buffer.alloc(0);
  const encoding = isBase64Encoded ? 'base64' : 'utf8';
  // byteLength sizes the decoded body without decoding it (exact for utf8 and for base64 as AWS
  // sends it, an upper bound otherwise), so an oversized body is refused before it is copied.
  if (Buffer.byteLength(body, encoding) > maxBodyBytes) throw new PayloadTooLargeError(maxBodyBytes);
  return Buffer.from(body, encoding);
}
