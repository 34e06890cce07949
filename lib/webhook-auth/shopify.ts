import { bodyHmacScheme } from './hmac';

/**
 * `X-Shopify-Hmac-Sha256`: base64 HMAC-SHA256, keyed with the app's client secret (or the store's
 * webhook signing key). Shopify's delivery headers ("Webhooks delivery structure"):
 * `X-Shopify-Topic`; `X-Shopify-Webhook-Id`, "a unique composite key per delivery", which a retry
 * of that delivery keeps; `X-Shopify-Event-Id`, "shared across all deliveries produced by the same
 * merchant action"; `X-Shopify-Triggered-At`, when Shopify triggered the delivery (a retry carries
 * the original payload and time: "Updates to webhook retry mechanism", 2024).
 *
 * The event id is the Webhook-Id, not the Event-Id: one merchant action (cancelling an order)
 * produces deliveries of several topics (orders/cancelled, orders/updated) that all share one
 * Event-Id, so a source receiving two of them would take the second for a duplicate of the first.
 */
export const shopify = bodyHmacScheme({
  name: 'shopify',
  docs: 'https://shopify.dev/docs/apps/build/webhooks/delivery-structure',
  format: { algorithm: 'sha256', header: 'X-Shopify-Hmac-Sha256', encoding: 'base64' },
  event: {
    type: { header: 'X-Shopify-Topic' },
    id: { header: 'X-Shopify-Webhook-Id' },
    occurredAt: { header: 'X-Shopify-Triggered-At' },
  },
});
