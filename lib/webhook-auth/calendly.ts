import { timestampedScheme } from './timestamped';

/**
 * `Calendly-Webhook-Signature`, Stripe's format under Calendly's header. Calendly's verification
 * example rejects signatures older than three minutes. Its webhook payload (the API reference's
 * webhook payload example) names the event in `event` and its time in `created_at` (ISO 8601),
 * and carries no id of the event.
 */
export const calendly = timestampedScheme({
  name: 'calendly',
  docs: 'https://developer.calendly.com/api-docs/overview/webhooks/webhook-signatures',
  format: {
    header: 'Calendly-Webhook-Signature',
    separator: ',',
    timestampKey: 't',
    signatureKey: 'v1',
    joiner: '.',
  },
  toleranceSeconds: 180,
  event: { type: { field: 'event' }, occurredAt: { field: 'created_at' } },
});
