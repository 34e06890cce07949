/**
 * stripe-customer: GET /v1/customers/{id} (Stripe API reference, "Retrieve a customer"), secret key
 * as Bearer. The answer is a Customer (`object: "customer"`, `email` a string or null, no
 * `deleted`) or, for a deleted customer, still a 200 DeletedCustomer `{id, object: "customer",
 * deleted: true}`: no one to find (types as in Stripe's own stripe-node, Customers.d.ts). A missing
 * one answers 404 `{"error":{"type":"invalid_request_error","code":"resource_missing",…}}`.
 */
import { toRefs } from '../refs';
import { isRecord } from '../../json';
import { isStringOrNull, type Preset } from './preset';

/** A Customer or a DeletedCustomer: `deleted` is absent, or true. */
const isCustomerObject = (body: unknown): body is Record<string, unknown> =>
  isRecord(body) &&
  body.object === 'customer' &&
  typeof body.id === 'string' &&
  (body.deleted === undefined || body.deleted === true);

export const stripeCustomer: Preset = {
  vendor: 'Stripe',
  defaultBaseUrl: 'https://api.stripe.com',
  auth: { in: 'bearer' },
  async resolve(id, api) {
    const answer = await api.get(`/v1/customers/${encodeURIComponent(id)}`);
    if (api.notFound(answer, (body) => isRecord(body) && isRecord(body.error))) return [];
    const customer = api.read(answer.body, isCustomerObject, 'a Stripe customer object');
    if (customer.deleted === true) return [];
    const email = api.read(customer.email, isStringOrNull, 'a Stripe customer whose `email` is a string or null');
    return toRefs('email', email);
  },
};
