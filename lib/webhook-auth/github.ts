import { bodyHmacScheme } from './hmac';

/**
 * `X-Hub-Signature-256: sha256=<hex>`. GitHub names the event in `X-GitHub-Event` and gives each
 * event a GUID in `X-GitHub-Delivery`, which a redelivery keeps (the REST API's hook delivery
 * `guid`: "shared with all deliveries for all webhooks that subscribe to this event"). Neither its
 * headers nor a common payload field say when the event occurred.
 */
export const github = bodyHmacScheme({
  name: 'github',
  docs: 'https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries',
  format: { algorithm: 'sha256', header: 'X-Hub-Signature-256', prefix: 'sha256=', encoding: 'hex' },
  event: { type: { header: 'X-GitHub-Event' }, id: { header: 'X-GitHub-Delivery' } },
});
