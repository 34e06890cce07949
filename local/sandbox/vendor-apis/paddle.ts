/**
 * Paddle Billing's "Get a customer", GET /customers/:customer_id: `{data: customer, meta: {request_id}}`
 * (API reference, "Success responses"); errors as `{"error":{type, code, detail, documentation_url},
 * "meta":{request_id}}` with the codes and statuses of Paddle's error reference: a missing or
 * malformed Authorization header is 403 authentication_missing, a wrong key 403 invalid_token, an
 * unknown id 404 not_found.
 */
import { randomUUID } from 'node:crypto';
import type { PaddleCustomerRecord } from './records';
import { bearerToken, segmentsAfter, type VendorReply, type VendorRequest } from './vendor';

function paddleError(status: number, code: string, detail: string): VendorReply {
  return {
    status,
    body: {
      error: {
        type: 'request_error',
        code,
        detail,
        documentation_url: `https://developer.paddle.com/errors/shared/${code}`,
      },
      meta: { request_id: randomUUID() },
    },
  };
}

export const PADDLE_ERRORS = {
  authenticationMissing: () => paddleError(403, 'authentication_missing', 'Authentication header missing.'),
  invalidToken: () => paddleError(403, 'invalid_token', 'Invalid or revoked API key.'),
  notFound: (id: string) => paddleError(404, 'not_found', `Entity ${id} not found`),
};

export function paddleCustomerObject(record: PaddleCustomerRecord): Record<string, unknown> {
  return {
    id: record.id,
    status: record.status,
    custom_data: null,
    name: record.name,
    email: record.email,
    marketing_consent: false,
    locale: 'en',
    created_at: '2024-03-08T16:49:53.691Z',
    updated_at: '2024-04-11T16:03:57.924146Z',
    import_meta: null,
  };
}

export function paddleRoute(request: VendorRequest, key: string, customers: PaddleCustomerRecord[]): VendorReply {
  const presented = bearerToken(request.headers);
  if (presented === undefined) return PADDLE_ERRORS.authenticationMissing();
  if (presented !== key) return PADDLE_ERRORS.invalidToken();
  const segments = segmentsAfter(request.url, '/customers/');
  const id = request.method === 'GET' && segments?.length === 1 ? segments[0]! : '';
  const customer = customers.find((record) => record.id === id);
  return customer
    ? { status: 200, body: { data: paddleCustomerObject(customer), meta: { request_id: randomUUID() } } }
    : PADDLE_ERRORS.notFound(id || request.url.pathname);
}
