/**
 * The local stand-in for the deployment's front doors, on node:http:
 *
 *   POST /webhooks/<source>  as API Gateway's HTTP API route `POST /webhooks/{source}`: the request
 *                            becomes a payload-format 2.0 event for the webhook function and its
 *                            result the reply (a thrown error or timeout: 500 {"message":"Internal Server Error"})
 *   GET /webhooks/<source>   likewise (route `GET /webhooks/{source}`), for senders that check the URL
 *   POST /events             a local convenience with no AWS counterpart: the body, an EventBridge
 *                            event or {source, detail-type, detail}, is delivered to the EventBridge
 *                            function as its rule target would; 200 with the function's result, or
 *                            500 {errorType, errorMessage} when it rejects the event (Lambda's error
 *                            shape; deployed, EventBridge's async invoke would retry it twice)
 *
 * Anything else answers 404 {"message":"Not Found"}, as HTTP API does for unrouted requests.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { BodyTooLargeError, baseUrl, closerFor, listen, readBody } from '../sandbox/http-server';
import { EVENT_SHAPE, toEventBridgeEvent } from './eventbridge-event';
import {
  fromHttpApiResult,
  INTERNAL_SERVER_ERROR,
  jsonReply,
  MAX_PAYLOAD_BYTES,
  NOT_FOUND,
  PAYLOAD_TOO_LARGE,
  toHttpApiEvent,
  type HttpReply,
} from './http-api-event';
import type { LocalFunctions } from './local-functions';

export interface HandledRequest {
  method: string;
  path: string;
  status: number;
  ms: number;
}

export interface FunctionHostOptions {
  functions: LocalFunctions;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Called once per answered request. */
  onRequest?(request: HandledRequest): void;
}

export interface FunctionHost {
  /** e.g. http://127.0.0.1:3000 */
  readonly url: string;
  readonly port: number;
  /** Stops accepting requests; the functions are the caller's to close. */
  close(): Promise<void>;
}

/** EventBridge's limit on one event. */
const MAX_EVENT_BYTES = 256 * 1024;

/** API Gateway request ids look like `ZhNHJhhLjoEEPiw=`: ten random bytes, base64. */
const gatewayRequestId = () => randomBytes(10).toString('base64');

async function webhook(functions: LocalFunctions, req: IncomingMessage, source: string): Promise<HttpReply> {
  const requestId = gatewayRequestId();
  const event = toHttpApiEvent(
    req,
    await readBody(req, MAX_PAYLOAD_BYTES),
    {
      routeKey: `${req.method} /webhooks/{source}`,
      pathParameters: { source },
    },
    { requestId },
  );
  const result = await functions.invoke('webhook', event);
  const reply = result.ok ? fromHttpApiResult(result.value) : INTERNAL_SERVER_ERROR;
  return { ...reply, headers: { ...reply.headers, 'apigw-requestid': requestId } };
}

async function busEvent(functions: LocalFunctions, req: IncomingMessage): Promise<HttpReply> {
  let body: unknown;
  try {
    body = JSON.parse((await readBody(req, MAX_EVENT_BYTES)).toString('utf8'));
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw error;
    return jsonReply(400, { message: `Body is not valid JSON; send ${EVENT_SHAPE}` });
  }
  const parsed = toEventBridgeEvent(body);
  if ('error' in parsed) return jsonReply(400, { message: parsed.error });
  const result = await functions.invoke('eventbridge', parsed.event);
  if (result.ok) return jsonReply(200, result.value ?? null);
  const reply = jsonReply(500, result.error);
  return { ...reply, headers: { ...reply.headers, 'x-amz-function-error': 'Unhandled' } };
}

/** `<source>` of POST or GET /webhooks/<source> (one non-empty segment), else undefined. */
function webhookSource(method: string | undefined, path: string): string | undefined {
  const match = method === 'POST' || method === 'GET' ? /^\/webhooks\/([^/]+)$/.exec(path) : null;
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return match[1];
  }
}

async function route(functions: LocalFunctions, req: IncomingMessage, path: string): Promise<HttpReply> {
  try {
    const source = webhookSource(req.method, path);
    if (source !== undefined) return await webhook(functions, req, source);
    if (req.method === 'POST' && path === '/events') return await busEvent(functions, req);
    req.resume();
    return NOT_FOUND;
  } catch (error) {
    if (error instanceof BodyTooLargeError) return PAYLOAD_TOO_LARGE;
    throw error;
  }
}

function send(res: ServerResponse, { status, headers, body }: HttpReply): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { ...headers, 'content-length': body.length });
  res.end(body);
}

export async function startFunctionHost(options: FunctionHostOptions): Promise<FunctionHost> {
  const { functions, host = '127.0.0.1', onRequest } = options;
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    // Only the path is logged: the query may carry a secret (a `token` source's query parameter).
    const path = (req.url ?? '/').split('?')[0]!;
    const reply = await route(functions, req, path).catch(() => INTERNAL_SERVER_ERROR);
    send(res, reply);
    onRequest?.({ method: req.method ?? '', path, status: reply.status, ms: performance.now() - started });
  }

  const server = createServer((req, res) => void handle(req, res));
  const port = await listen(server, host, options.port ?? 0);
  return { url: baseUrl(host, port), port, close: closerFor(server) };
}
