import { createHmac } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PayloadTooLargeError } from '../lib/errors';
import { DEFAULT_MAX_BODY_BYTES, parseHttpEvent } from '../lib/triggers/http-event';
import type { VerifyConfig } from '../lib/rules/types';
import { verifyWebhook } from '../lib/webhook-auth';
import { sample as loadSample, type SampleFile } from './support/lambda-events';

/** A fresh copy of a real AWS sample event with the fields a case needs replaced. */
function fromSample<E extends APIGatewayProxyEventV2 | APIGatewayProxyEvent>(file: SampleFile, fields: Partial<E>): E {
  const event = { ...loadSample<E>(file), ...fields };
  // Keep the 2.0 request context consistent with rawPath, as AWS sends it.
  if ('rawPath' in event) event.requestContext.http.path = event.rawPath;
  return event;
}
const httpApi = (fields: Partial<APIGatewayProxyEventV2>) => fromSample('apigw-http-v2.json', fields);
const functionUrl = (fields: Partial<APIGatewayProxyEventV2>) => fromSample('function-url.json', fields);
const restApi = (fields: Partial<APIGatewayProxyEvent>) => fromSample('apigw-rest-v1.json', fields);

const json = '{"event":"deal.won","customer":{"email":"ana@example.com"}}';

describe('parseHttpEvent: HTTP API payload 2.0', () => {
  it('reads method, path, source, lower-case headers, body and request id', () => {
    const event = httpApi({
      rawPath: '/webhooks/crm',
      pathParameters: { source: 'crm' },
      headers: { 'content-type': 'application/json', 'x-signature': 'abc' },
      body: json,
    });
    expect(parseHttpEvent(event)).toEqual({
      method: 'POST',
      path: '/webhooks/crm',
      source: 'crm',
      headers: { 'content-type': 'application/json', 'x-signature': 'abc' },
      rawBody: Buffer.from(json),
      url: 'https://lsw1ro4ipb.execute-api.eu-west-1.amazonaws.com/webhooks/crm',
      query: '',
      requestId: 'ZhNHJhhLjoEEPiw=',
    });
  });

  it('keeps the query string as sent in the called URL and in `query`', () => {
    const event = httpApi({ rawPath: '/prod/webhooks/crm', rawQueryString: 'b=2&a=%20x' });
    const request = parseHttpEvent(event);
    expect(request.url).toBe('https://lsw1ro4ipb.execute-api.eu-west-1.amazonaws.com/prod/webhooks/crm?b=2&a=%20x');
    expect(request.query).toBe('b=2&a=%20x');
  });

  it('has no called URL when the event carries no domain, and still its query', () => {
    const event = httpApi({ rawPath: '/webhooks/crm', rawQueryString: 'key=s3cret' });
    delete (event.requestContext as { domainName?: string }).domainName;
    expect(parseHttpEvent(event).url).toBeUndefined();
    expect(parseHttpEvent(event).query).toBe('key=s3cret');
  });

  it('takes the source from a stage-prefixed rawPath when there are no path parameters', () => {
    expect(parseHttpEvent(httpApi({ rawPath: '/prod/webhooks/crm' })).source).toBe('crm');
  });

  it('prefers pathParameters.source over the path', () => {
    expect(parseHttpEvent(httpApi({ rawPath: '/webhooks/a', pathParameters: { source: 'b' } })).source).toBe('b');
  });

  it('gives an empty body when the sample has none', () => {
    const request = parseHttpEvent(httpApi({}));
    expect(request.rawBody).toEqual(Buffer.alloc(0));
    expect(request.source).toBeUndefined();
  });
});

describe('parseHttpEvent: Lambda Function URL', () => {
  it('decodes a base64 body to the exact bytes sent', () => {
    const bytes = Buffer.from([0x7b, 0xff, 0x00, 0xfe, 0x7d]);
    const event = functionUrl({ rawPath: '/webhooks/crm', body: bytes.toString('base64'), isBase64Encoded: true });
    const request = parseHttpEvent(event);
    expect(request.rawBody).toEqual(bytes);
    expect(request.source).toBe('crm');
    expect(request.requestId).toBe('id');
  });

  it('URL-decodes the source segment and tolerates a trailing slash', () => {
    expect(parseHttpEvent(functionUrl({ rawPath: '/webhooks/my%20crm/' })).source).toBe('my crm');
  });

  it.each(['/', '/webhooks', '/webhooks/', '/webhooks/crm/extra', '/hooks/crm'])('has no source for %s', (rawPath) => {
    expect(parseHttpEvent(functionUrl({ rawPath })).source).toBeUndefined();
  });

  it('rejects malformed percent-encoding in the source', () => {
    expect(() => parseHttpEvent(functionUrl({ rawPath: '/webhooks/%E0%A4%A' }))).toThrow(
      expect.objectContaining({ name: 'BadEventError', code: 'invalid_path' }),
    );
  });
});

describe('parseHttpEvent: REST API payload 1.0', () => {
  it('lower-cases headers sent in mixed case and keeps an absent body empty', () => {
    const request = parseHttpEvent(restApi({ path: '/webhooks/crm', pathParameters: { source: 'crm' } }));
    expect(request).toMatchObject({ method: 'POST', path: '/webhooks/crm', source: 'crm' });
    expect(request.requestId).toBe('f88e38e3-2060-4a56-93c0-9efbc6a659a0');
    expect(request.headers['user-agent']).toBe('HTTPie/3.2.2');
    expect(request.headers['cloudfront-viewer-country']).toBe('GB');
    expect(Object.keys(request.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(request.rawBody).toEqual(Buffer.alloc(0));
  });

  it('rebuilds the called URL with the stage prefix and the query parameters in order', () => {
    const event = restApi({ path: '/webhooks/crm', multiValueQueryStringParameters: { b: ['2', '3'], a: ['x y'] } });
    event.requestContext.path = '/prod/webhooks/crm';
    expect(parseHttpEvent(event).url).toBe(
      'https://puhdx84jy9.execute-api.eu-west-1.amazonaws.com/prod/webhooks/crm?b=2&b=3&a=x+y',
    );
    // A repeated parameter stays repeated: a token source refuses a secret given twice.
    expect(parseHttpEvent(event).query).toBe('b=2&b=3&a=x+y');
  });

  it('joins repeated headers from multiValueHeaders', () => {
    const event = restApi({ headers: { 'X-Tag': 'b' }, multiValueHeaders: { 'X-Tag': ['a', 'b'] } });
    expect(parseHttpEvent(event).headers).toEqual({ 'x-tag': 'a,b' });
  });

  it('uses headers when multiValueHeaders is absent', () => {
    const event = restApi({ headers: { 'X-Tag': 'a' }, multiValueHeaders: undefined });
    expect(parseHttpEvent(event).headers).toEqual({ 'x-tag': 'a' });
  });

  it('yields headers and bytes that verify against the sender signature', () => {
    const secret = 'rest-secret';
    const signature = createHmac('sha256', secret).update(json).digest('hex');
    const headers = { 'X-Hub-Signature-256': `sha256=${signature}` };
    const event = restApi({
      path: '/webhooks/github',
      headers,
      multiValueHeaders: { 'X-Hub-Signature-256': [headers['X-Hub-Signature-256']] },
      body: Buffer.from(json).toString('base64'),
      isBase64Encoded: true,
    });
    const config: VerifyConfig = {
      scheme: 'hmac',
      algorithm: 'sha256',
      header: 'X-Hub-Signature-256',
      prefix: 'sha256=',
      encoding: 'hex',
      secretId: 'gh',
    };
    expect(() => verifyWebhook(config, parseHttpEvent(event), secret)).not.toThrow();
  });
});

describe('parseHttpEvent: body size limit', () => {
  afterEach(() => vi.restoreAllMocks());
  const limit = 1000;

  it('accepts a body of exactly the limit and rejects one byte more', () => {
    expect(parseHttpEvent(httpApi({ body: 'x'.repeat(limit) }), { maxBodyBytes: limit }).rawBody).toHaveLength(limit);
    expect(() => parseHttpEvent(httpApi({ body: 'x'.repeat(limit + 1) }), { maxBodyBytes: limit })).toThrow(
      PayloadTooLargeError,
    );
  });

  it('counts UTF-8 bytes, not characters', () => {
    const body = 'é'.repeat(limit / 2 + 1); // limit + 2 bytes in fewer than limit characters
    expect(() => parseHttpEvent(httpApi({ body }), { maxBodyBytes: limit })).toThrow(PayloadTooLargeError);
  });

  it('limits the decoded size of base64 bodies', () => {
    const encode = (n: number) => Buffer.alloc(n, 1).toString('base64');
    const fits = functionUrl({ body: encode(limit), isBase64Encoded: true });
    expect(parseHttpEvent(fits, { maxBodyBytes: limit }).rawBody).toHaveLength(limit);
    const over = functionUrl({ body: encode(limit + 1), isBase64Encoded: true });
    expect(() => parseHttpEvent(over, { maxBodyBytes: limit })).toThrow(PayloadTooLargeError);
  });

  it('refuses an oversized base64 body without decoding it', () => {
    const body = Buffer.alloc(limit * 4, 1).toString('base64');
    const from = vi.spyOn(Buffer, 'from');
    expect(() => parseHttpEvent(restApi({ body, isBase64Encoded: true }), { maxBodyBytes: limit })).toThrow(
      PayloadTooLargeError,
    );
    expect(from).not.toHaveBeenCalledWith(body, 'base64');
  });

  it('defaults to 256 KiB', () => {
    expect(DEFAULT_MAX_BODY_BYTES).toBe(262144);
    expect(parseHttpEvent(httpApi({ body: 'x'.repeat(262144) })).rawBody).toHaveLength(262144);
    expect(() => parseHttpEvent(httpApi({ body: 'x'.repeat(262145) }))).toThrow(PayloadTooLargeError);
  });
});
