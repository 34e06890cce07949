/**
 * Where each vendor puts an event's id and the time it occurred, read out of the vendor's own
 * documented delivery (tests/fixtures/vendors/webhooks/) through the scheme registry's selectors,
 * as the functions read them (lib/rules/selector.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSelector } from '../lib/rules/selector';
import { schemeOf } from '../lib/webhook-auth/registry';

interface Delivery {
  headers: Record<string, string>;
  body: unknown;
}

/** The documented delivery, headers lower-cased as the functions see them, and its first payload (HubSpot sends a batch). */
function delivery(file: string): { headers: Record<string, string>; payload: unknown } {
  const { headers, body } = JSON.parse(
    readFileSync(join(import.meta.dirname, 'fixtures', 'vendors', 'webhooks', file), 'utf8'),
  ) as Delivery;
  const lowerCased = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return { headers: lowerCased, payload: Array.isArray(body) ? body[0] : body };
}

/** [scheme, fixture, the event id, the time it occurred]; null: the vendor sends none. */
const documented: [string, string, unknown, unknown][] = [
  ['stripe', 'stripe.json', 'evt_1NG8Du2eZvKYlo2CUI79vXWy', 1686089970],
  ['paddle', 'paddle.json', 'evt_01hv90vbenb5d4spnjbbcfh3nk', '2024-04-12T11:24:55.637846Z'],
  // eventId, subscriptionId, objectId and occurredAt: HubSpot's eventId alone is not unique.
  ['hubspot-v3', 'hubspot-v3.json', '3816279340:25:1246965:1462216307945', 1462216307945],
  ['calendly', 'calendly.json', null, '2020-11-23T17:51:19.000000Z'],
  ['helpcrunch', 'helpcrunch.json', '73499e69-285c-44c3-8431-a843ed08183d', 1638953588],
  ['standard-webhooks', 'standard-webhooks.json', 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', '2022-11-03T20:26:10.344522Z'],
  ['standard-webhooks', 'svix.json', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1661861640000],
  ['github', 'github.json', '72d3162e-cc78-11e3-81ab-4c9367dc0958', null],
  ['shopify', 'shopify.json', 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043', '2023-03-29T18:00:27.877041743Z'],
];

describe("each vendor's event id and time, from its documented delivery", () => {
  it.each(documented)('%s (%s)', (scheme, file, id, occurredAt) => {
    const { headers, payload } = delivery(file);
    const { event } = schemeOf({ scheme: scheme as never });
    const read = (selector: typeof event.id) => (selector ? readSelector(selector, payload, headers) : null);
    expect({ id: read(event.id), occurredAt: read(event.occurredAt) }).toEqual({ id, occurredAt });
  });

  it("standard-webhooks: the time is the event's, not the delivery attempt's webhook-timestamp", () => {
    const { headers, payload } = delivery('standard-webhooks.json');
    const time = readSelector(schemeOf({ scheme: 'standard-webhooks' }).event.occurredAt!, payload, headers);
    expect(time).not.toBe(headers['webhook-timestamp']);
  });

  it("shopify: the id is the delivery's Webhook-Id, not the Event-Id its other topics share", () => {
    const { headers, payload } = delivery('shopify.json');
    expect(readSelector(schemeOf({ scheme: 'shopify' }).event.id!, payload, headers)).not.toBe(
      headers['x-shopify-event-id'],
    );
  });
});
