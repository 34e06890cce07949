/**
 * paddle-customer: Paddle Billing GET /customers/{customer_id} (API reference, "Get a customer"),
 * API key as Bearer; the customer is `data`, its email `data.email`, a string every customer has
 * (Paddle's own paddle-node-sdk, ICustomerResponse). A missing one answers 404
 * `{"error":{"type":"request_error","code":"not_found",…},"meta":{…}}`. An archived customer keeps
 * its email and is still found: the event is about that person.
 */
import { toRefs } from '../refs';
import { isRecord } from '../../json';
import { isString, type Preset } from './preset';

export const paddleCustomer: Preset = {
  vendor: 'Paddle',
  defaultBaseUrl: 'https://api.paddle.com',
  auth: { in: 'bearer' },
  async resolve(id, api) {
    const answer = await api.get(`/customers/${encodeURIComponent(id)}`);
    if (api.notFound(answer, (body) => isRecord(body) && isRecord(body.error))) return [];
    const customer = api.read(
      isRecord(answer.body) ? answer.body.data : undefined,
      isRecord,
      'a Paddle customer in `data`',
    );
    const email = api.read(customer.email, isString, 'a Paddle customer whose `email` is a string');
    return toRefs('email', email);
  },
};
