/** Test events built from the real AWS samples in tests/fixtures/aws-events, and a Lambda context. */
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context, EventBridgeEvent, SQSRecord } from 'aws-lambda';
import { createLambdaContext } from '../../local/host/lambda-context';

export type HttpTrigger = 'http-api' | 'rest-api' | 'function-url';

export type SampleFile = 'apigw-http-v2.json' | 'apigw-rest-v1.json' | 'function-url.json';

const sampleFile: Record<HttpTrigger, SampleFile> = {
  'http-api': 'apigw-http-v2.json',
  'rest-api': 'apigw-rest-v1.json',
  'function-url': 'function-url.json',
};

/** A fresh copy of one of the real AWS sample events (copied from the shared AWS fixtures). */
export function sample<T>(file: SampleFile): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/aws-events/${file}`, import.meta.url), 'utf8')) as T;
}

export interface WebhookRequest {
  source: string;
  body: string | Buffer;
  headers?: Record<string, string>;
  base64?: boolean;
}

/** A POST /webhooks/<source> as the given trigger delivers it (header case kept as sent for 1.0). */
export function webhookEvent(trigger: HttpTrigger, { source, body, headers = {}, base64 = false }: WebhookRequest) {
  const raw = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const encodedBody = base64 ? raw.toString('base64') : raw.toString('utf8');
  const path = `/webhooks/${encodeURIComponent(source)}`;
  if (trigger === 'rest-api') {
    const event = sample<APIGatewayProxyEvent>(sampleFile[trigger]);
    const withJson = { 'Content-Type': 'application/json', ...headers };
    return {
      ...event,
      httpMethod: 'POST',
      resource: '/webhooks/{source}',
      path,
      pathParameters: { source },
      headers: withJson,
      multiValueHeaders: Object.fromEntries(Object.entries(withJson).map(([k, v]) => [k, [v]])),
      body: encodedBody,
      isBase64Encoded: base64,
    } satisfies APIGatewayProxyEvent;
  }
  const event = sample<APIGatewayProxyEventV2>(sampleFile[trigger]);
  const lowerCased = Object.fromEntries(
    Object.entries({ 'content-type': 'application/json', ...headers }).map(([k, v]) => [k.toLowerCase(), v]),
  );
  return {
    ...event,
    routeKey: trigger === 'http-api' ? 'POST /webhooks/{source}' : '$default',
    rawPath: path,
    ...(trigger === 'http-api' ? { pathParameters: { source } } : { pathParameters: undefined }),
    headers: lowerCased,
    requestContext: { ...event.requestContext, http: { ...event.requestContext.http, method: 'POST', path } },
    body: encodedBody,
    isBase64Encoded: base64,
  } satisfies APIGatewayProxyEventV2;
}

export function eventBridgeEvent(
  source: string,
  detailType: string,
  detail: unknown,
): EventBridgeEvent<string, unknown> {
  return {
    version: '0',
    id: 'c7b9a1e2-0000-4000-8000-000000000001',
    'detail-type': detailType,
    source,
    account: '123456789012',
    time: '2026-11-24T08:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail,
  };
}

/**
 * One jobs-queue message as Lambda's SQS event source hands it to the worker; with a `groupId`, from
 * a FIFO queue (the attributes of AWS's FIFO sample, tests/fixtures/aws-events/sqs-fifo.json).
 */
export function sqsRecord(
  body: string,
  {
    messageId = 'm-1',
    receiveCount = 1,
    groupId,
  }: { messageId?: string; receiveCount?: number; groupId?: string } = {},
): SQSRecord {
  return {
    messageId,
    receiptHandle: `handle-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '0',
      ...(groupId !== undefined && { SequenceNumber: '18849496460467696128', MessageGroupId: groupId }),
      SenderId: 'A',
      ...(groupId !== undefined && { MessageDeduplicationId: `dedup-${messageId}` }),
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:helpcrunch-untag-test-jobs',
    awsRegion: 'us-east-1',
  };
}

/** A Lambda context as the local host builds it, its clock running like Lambda's: remaining time shrinks as real (or fake) time passes. */
export function lambdaContext(remainingMs = 28_000): Context {
  return createLambdaContext({
    functionName: 'helpcrunch-untag-test-webhook',
    requestId: 'req-00000000-0000-4000-8000-000000000000',
    deadlineMs: Date.now() + remainingMs,
    memoryMb: 256,
    region: 'us-east-1',
  });
}
