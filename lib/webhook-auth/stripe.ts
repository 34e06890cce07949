import { timestampedScheme } from './timestamped';

/**
 * `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`; the secret is the whole `whsec_…` string.
 * Events (docs.stripe.com "The Event object"): `id` (evt_…), `type`, `created` (unix seconds).
 */
export const stripe = timestampedScheme({
  name: 'stripe',
  docs: 'https://docs.stripe.com/webhooks#verify-manually',
  format: { header: 'Stripe-Signature', separator: ',', timestampKey: 't', signatureKey: 'v1', joiner: '.' },
  toleranceSeconds: 300,
  event: { type: { field: 'type' }, id: { field: 'id' }, occurredAt: { field: 'created' } },
});
