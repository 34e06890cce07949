import { bodyHmacScheme } from './hmac';

/**
 * HelpCrunch's own outgoing webhooks ("Setting up webhooks"): `X-HelpCrunch-Signature`, the
 * 40-character hex HMAC-SHA1 of the body (its example header value is not hex: the text is what is
 * implemented). Every event ("Webhook event types & models") carries `event`, `id` ("Unique event
 * id provided by HelpCrunch"), `createdAt` (unix seconds, when the event was created) and
 * `lastAttemptAt` (the delivery attempt's time, not the event's).
 */
export const helpcrunch = bodyHmacScheme({
  name: 'helpcrunch',
  docs: 'https://docs.helpcrunch.com/webhooks/setting-up-webhooks',
  format: { algorithm: 'sha1', header: 'X-HelpCrunch-Signature', encoding: 'hex' },
  event: { type: { field: 'event' }, id: { field: 'id' }, occurredAt: { field: 'createdAt' } },
});
