/** What the benchmark sends the handlers: signed HTTP API (2.0) events, EventBridge events, and a Lambda context. */
import { createHmac, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, EventBridgeEvent } from 'aws-lambda';

export { lambdaContext } from './lambda-context';

/** The bench rules' webhook source (bench/rules.bench.yml) and its signing secret's id. */
export const WEBHOOK_SOURCE = 'crm';
export const SIGNING_SECRET_ID = 'helpcrunch-untag/crm-webhook';

/**
 * POST /webhooks/crm with an X-Signature the crm source accepts. The body carries an id of its own,
 * as senders' events do: the crm source names no event id, so the ledger knows an event by its
 * body's digest, and a body sent twice would be a duplicate_event the second time.
 */
export function signedWebhookEvent(payload: Record<string, unknown>, signingSecret: string): APIGatewayProxyEventV2 {
  const body = JSON.stringify({ id: randomUUID(), ...payload });
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

/** The bench rules' EventBridge source (bench/rules.bench.yml). */
export const EVENT_SOURCE = 'crm.app';

/** An EventBridge event from the crm.app source, as a rule target receives it. */
export function busEvent(detail: Record<string, unknown>): EventBridgeEvent<string, Record<string, unknown>> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Account Closed',
    source: EVENT_SOURCE,
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail,
  };
}
