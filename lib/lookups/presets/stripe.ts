/**
 * stripe-customer: GET /v1/customers/{id} (Stripe API reference, "Retrieve a customer"), secret key
 * as Bearer. A deleted customer still answers 200, as `{"id","object":"customer","deleted":true}`:
 * no one to find. A missing one answers 404 `{"error":{"type":"invalid_request_error","code":"resource_missing",…}}`.
 */
import { toRefs } from '../refs';
import { isRecord } from '../../json';
import type { Preset } from './preset';

export const stripeCustomer: Preset = {
  vendor: 'Stripe',
  defaultBaseUrl: 'https://api.stripe.com',
  auth: { in: 'bearer' },
  async resolve(id, api) {
    const answer = await api.get(`/v1/customers/${encodeURIComponent(id)}`);
    if (api.notFound(answer, (body) => isRecord(body) && isRecord(body.error))) return [];
    const customer = answer.body;
    api.expect(isRecord(customer) && customer.object === 'customer', 'a Stripe customer object');
    const { deleted, email } = customer as Record<string, unknown>;
    return deleted === true ? [] : toRefs('email', email);
  },
};
