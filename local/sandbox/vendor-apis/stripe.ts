/**
 * Stripe's "Retrieve a customer", GET /v1/customers/:id, as the API reference documents it: the
 * customer object (fields of the reference's example answer), `{id, object, deleted: true}` for a
 * deleted customer, errors as `{"error":{type, code?, message, param?, doc_url?}}` (API reference,
 * "Errors"). The key goes as Bearer, or as the Basic username (Stripe's "Authentication").
 */
import type { StripeCustomerRecord } from './records';
import { bearerToken, segmentsAfter, type VendorReply, type VendorRequest } from './vendor';

const noKey = {
  status: 401,
  body: {
    error: {
      message:
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      type: 'invalid_request_error',
    },
  },
  headers: { 'www-authenticate': 'Basic realm="Stripe"' },
};

export const STRIPE_ERRORS = {
  noKey,
  invalidKey: (key: string): VendorReply => ({
    ...noKey,
    body: {
      error: {
        message: `Invalid API Key provided: ${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`,
        type: 'invalid_request_error',
      },
    },
  }),
  noSuchCustomer: (id: string): VendorReply => ({
    status: 404,
    body: {
      error: {
        code: 'resource_missing',
        doc_url: 'https://stripe.com/docs/error-codes/resource-missing',
        message: `No such customer: '${id}'`,
        param: 'id',
        type: 'invalid_request_error',
      },
    },
  }),
  unrecognizedUrl: (method: string, path: string): VendorReply => ({
    status: 404,
    body: {
      error: {
        message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
        type: 'invalid_request_error',
      },
    },
  }),
};

function presentedKey(request: VendorRequest): string | undefined {
  const basic = /^Basic (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
  return (
    bearerToken(request.headers) ?? (basic ? Buffer.from(basic, 'base64').toString('utf8').split(':')[0] : undefined)
  );
}

/** The reference's example customer with this record's id, email and name. */
export function stripeCustomerObject(record: StripeCustomerRecord): Record<string, unknown> {
  if (record.deleted) return { id: record.id, object: 'customer', deleted: true };
  return {
    id: record.id,
    object: 'customer',
    address: null,
    balance: 0,
    created: 1680893993,
    currency: null,
    default_source: null,
    delinquent: false,
    description: null,
    discount: null,
    email: record.email,
    invoice_prefix: '0759376C',
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: {},
    name: record.name,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  };
}

export function stripeRoute(request: VendorRequest, key: string, customers: StripeCustomerRecord[]): VendorReply {
  const presented = presentedKey(request);
  if (presented === undefined) return STRIPE_ERRORS.noKey;
  if (presented !== key) return STRIPE_ERRORS.invalidKey(presented);
  const segments = segmentsAfter(request.url, '/v1/customers/');
  if (request.method !== 'GET' || segments?.length !== 1 || segments[0] === '') {
    return STRIPE_ERRORS.unrecognizedUrl(request.method, request.url.pathname);
  }
  const customer = customers.find((record) => record.id === segments[0]);
  return customer ? { status: 200, body: stripeCustomerObject(customer) } : STRIPE_ERRORS.noSuchCustomer(segments[0]!);
}
