/**
 * API Gateway HTTP API's side of a webhook call, for the local host: an incoming request becomes
 * the payload-format 2.0 event the webhook function receives, and the function's result becomes
 * the HTTP reply, following the documented mapping (docs.aws.amazon.com/apigateway, "HTTP API
 * Lambda proxy integrations").
 */
import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** The body API Gateway sends when the integration fails (the function threw or timed out). */
export const INTERNAL_SERVER_ERROR: HttpReply = jsonReply(500, { message: 'Internal Server Error' });
export const NOT_FOUND: HttpReply = jsonReply(404, { message: 'Not Found' });
export const PAYLOAD_TOO_LARGE: HttpReply = jsonReply(413, { message: 'Request Entity Too Large' });
/** HTTP API's request payload limit. */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export function jsonReply(status: number, body: unknown): HttpReply {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) };
}

// Bodies of these types arrive as text; any other body arrives base64-encoded.
const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)\b|[^;]*\+(json|xml)\b)/i;

export interface RouteMatch {
  routeKey: string;
  pathParameters?: Record<string, string>;
}

/** Repeated headers and query parameters are joined with commas; cookies get their own list. */
function joined(values: Record<string, string[] | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).flatMap(([name, list]) => (list ? [[name, list.join(',')]] : [])));
}

export function toHttpApiEvent(
  req: IncomingMessage,
  body: Buffer,
  route: RouteMatch,
  { requestId, nowMs = Date.now() }: { requestId: string; nowMs?: number },
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://local');
  const rawPath = url.pathname;
  const rawQueryString = url.search.slice(1);
  const { cookie, ...distinct } = req.headersDistinct;
  const headers = joined(distinct);
  const query: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] ??= [];
    query[name].push(value);
  }
  const isText = TEXT_TYPES.test(headers['content-type'] ?? '');
  const method = req.method ?? 'GET';
  return {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath,
    rawQueryString,
    ...(cookie && { cookies: cookie.flatMap((value) => value.split(/;\s*/)) }),
    headers,
    ...(rawQueryString && { queryStringParameters: joined(query) }),
    ...(route.pathParameters && { pathParameters: route.pathParameters }),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split('.')[0]!,
      http: {
        method,
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: route.routeKey,
      stage: '$default',
      time: new Date(nowMs).toUTCString(),
      timeEpoch: nowMs,
    },
    ...(body.length > 0 && { body: body.toString(isText ? 'utf8' : 'base64') }),
    isBase64Encoded: body.length > 0 && !isText,
  };
}

/**
 * A handler's result as API Gateway answers it: a result with `statusCode` is the response; any
 * other value is a 200 whose JSON body is that value.
 */
export function fromHttpApiResult(result: unknown): HttpReply {
  if (typeof result !== 'object' || result === null || !('statusCode' in result)) {
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(typeof result === 'string' ? result : JSON.stringify(result ?? null)),
    };
  }
  const { statusCode, headers = {}, cookies, body = '', isBase64Encoded } = result as APIGatewayProxyStructuredResultV2;
  const replyHeaders: HttpReply['headers'] = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), String(value)]),
  );
  if (cookies?.length) replyHeaders['set-cookie'] = cookies;
  return {
    status: statusCode ?? 200,
    headers: replyHeaders,
    body: Buffer.from(body, isBase64Encoded ? 'base64' : 'utf8'),
  };
}
