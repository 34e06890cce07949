/** What the benchmark sends the webhook handler: signed HTTP API (2.0) events and a Lambda context. */
import { createHmac, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

/** The bench rules' webhook source (bench/rules.bench.yml) and its signing secret's id. */
export const WEBHOOK_SOURCE = 'crm';
export const SIGNING_SECRET_ID = 'helpcrunch-untag/crm-webhook';

/** POST /webhooks/crm with an X-Signature the crm source accepts. */
export function signedWebhookEvent(payload: unknown, signingSecret: string): APIGatewayProxyEventV2 {
  const body = JSON.stringify(payload);
  const path = `/webhooks/${WEBHOOK_SOURCE}`;
  const requestId = randomUUID();
  return {
    version: '2.0',
    routeKey: 'POST /webhooks/{source}',
    rawPath: path,
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'x-signature': `sha256=${createHmac('sha256', signingSecret).update(body).digest('hex')}`,
    },
    pathParameters: { source: WEBHOOK_SOURCE },
    requestContext: {
      accountId: '123456789012',
      apiId: 'bench',
      domainName: 'bench.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'bench',
      http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'bench' },
      requestId,
      routeKey: 'POST /webhooks/{source}',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body,
    isBase64Encoded: false,
  };
}

/** A context whose remaining time runs down like Lambda's, from the function's timeout. */
export function lambdaContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
