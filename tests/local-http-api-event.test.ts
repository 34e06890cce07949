/** API Gateway HTTP API's request -> event and result -> reply mapping, as the local host applies it. */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { fromHttpApiResult, toHttpApiEvent } from '../local/host/http-api-event';
import { parseHttpEvent } from '../lib/triggers/http-event';
import { readBody } from '../local/sandbox/http-server';

/** Sends one real request and turns what the server received into an event. */
async function eventFor(
  path: string,
  init: { headers?: Record<string, string>; body?: string | Buffer },
): Promise<APIGatewayProxyEventV2> {
  let event: APIGatewayProxyEventV2 | undefined;
  const server = createServer((req: IncomingMessage, res) => {
    void readBody(req, 1024 * 1024).then((body) => {
      event = toHttpApiEvent(
        req,
        body,
        { routeKey: 'POST /webhooks/{source}', pathParameters: { source: 'crm' } },
        { requestId: 'req-1', nowMs: 1_795_507_200_000 },
      );
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', ...init });
  server.close();
  return event!;
}

describe('toHttpApiEvent', () => {
  it('builds a 2.0 event: lower-cased headers, cookies apart, query, route, request context', async () => {
    const event = await eventFor('/webhooks/crm?a=1&a=2&b=x', {
      headers: { 'Content-Type': 'application/json', 'X-Signature': 'sha256=ab', Cookie: 'k=v; s=t' },
      body: '{"status":"lost"}',
    });

    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /webhooks/{source}',
      rawPath: '/webhooks/crm',
      rawQueryString: 'a=1&a=2&b=x',
      queryStringParameters: { a: '1,2', b: 'x' },
      cookies: ['k=v', 's=t'],
      pathParameters: { source: 'crm' },
      body: '{"status":"lost"}',
      isBase64Encoded: false,
      requestContext: {
        requestId: 'req-1',
        stage: '$default',
        timeEpoch: 1_795_507_200_000,
        http: { method: 'POST', path: '/webhooks/crm', sourceIp: '127.0.0.1' },
      },
    });
    expect(event.headers).toMatchObject({ 'content-type': 'application/json', 'x-signature': 'sha256=ab' });
    expect(event.headers).not.toHaveProperty('cookie');
  });

  it('base64-encodes a body that is not text, so the function gets its exact bytes', async () => {
    const bytes = Buffer.from([0xff, 0x00, 0x7b]);
    const event = await eventFor('/webhooks/crm', {
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });

    expect(event.isBase64Encoded).toBe(true);
    expect(parseHttpEvent(event).rawBody).toEqual(bytes);
  });

  it('omits body and query when there are none', async () => {
    const event = await eventFor('/webhooks/crm', {});

    expect(event).not.toHaveProperty('body');
    expect(event).not.toHaveProperty('queryStringParameters');
    expect(event.isBase64Encoded).toBe(false);
  });
});

describe('fromHttpApiResult', () => {
  it('answers a structured result as given: status, headers, cookies, base64 body', () => {
    const reply = fromHttpApiResult({
      statusCode: 401,
      headers: { 'Retry-After': '3' },
      cookies: ['a=b'],
      body: Buffer.from('hi').toString('base64'),
      isBase64Encoded: true,
    });

    expect(reply).toEqual({
      status: 401,
      headers: { 'retry-after': '3', 'set-cookie': ['a=b'] },
      body: Buffer.from('hi'),
    });
  });

  it('answers any other value as a 200 whose JSON body is that value', () => {
    expect(fromHttpApiResult({ results: [] })).toEqual({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{"results":[]}'),
    });
    expect(fromHttpApiResult(undefined).body.toString()).toBe('null');
  });
});
