import { timestampedScheme } from './timestamped';

/**
 * `Paddle-Signature: ts=<unix>;h1=<hex>[;h1=<hex>…]`. Paddle's SDKs allow 5 s: tight behind a cold
 * start, so `toleranceSeconds` widens it. A notification (Paddle "Webhooks" payload) carries
 * `event_id` (evt_…, shared by the notifications of one event to several destinations),
 * `event_type` and `occurred_at` (RFC 3339).
 */
export const paddle = timestampedScheme({
  name: 'paddle',
  docs: 'https://developer.paddle.com/webhooks/signature-verification',
  format: { header: 'Paddle-Signature', separator: ';', timestampKey: 'ts', signatureKey: 'h1', joiner: ':' },
  toleranceSeconds: 5,
  event: { type: { field: 'event_type' }, id: { field: 'event_id' }, occurredAt: { field: 'occurred_at' } },
});
