/**
 * Requests for the suite's webhook sources (tests/fixtures/rules/suite.yml), signed as their senders
 * sign them, with the signing secrets of the test file that sends them.
 */
import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import type { WebhookRequest } from './lambda-events';

/** `crm` (hmac-sha256 in X-Signature, prefix sha256=): the request for `body`. */
export function crmRequest(body: string, secret: string): WebhookRequest {
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  return { source: 'crm', body, headers: { 'X-Signature': signature } };
}

/**
 * `billing` (Standard Webhooks), signed by hand: `id` is the webhook-id (the event id), `occurredAt`
 * the payload's `timestamp` (the event's time, in the spec's recommended payload).
 */
export function billingRequest(
  secret: string,
  id: string,
  { occurredAt = Date.now(), customer = 'u-grace' }: { occurredAt?: number; customer?: string } = {},
): WebhookRequest {
  const body = JSON.stringify({
    type: 'subscription.cancelled',
    timestamp: new Date(occurredAt).toISOString(),
    data: { customer_id: customer },
  });
  const timestamp = Math.floor(Date.now() / 1000);
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  const headers = { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` };
  return { source: 'billing', body, headers };
}

/**
 * A `customer.subscription.deleted` event as Stripe's Event object has it (tests/fixtures/vendors/webhooks/stripe.json):
 * its `id` and `created` (Unix seconds) are the event's id and time for the stripe scheme.
 */
export function subscriptionDeleted(id: string, customer: string, created = Math.floor(Date.now() / 1000)) {
  return {
    id,
    object: 'event',
    created,
    type: 'customer.subscription.deleted',
    data: { object: { id: `sub_${id}`, object: 'subscription', customer } },
  };
}

/** `stripe` (Stripe-Signature, by Stripe's own library): the request for `body`. */
export function stripeRequest(body: string, secret: string): WebhookRequest {
  return {
    source: 'stripe',
    body,
    headers: { 'Stripe-Signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret }) },
  };
}
