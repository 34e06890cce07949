/**
 * The vendor examples (examples/<vendor>-<event>/) hold together: each event.json is a delivery
 * its source's verify scheme accepts with the demo secret at the event's time (and refuses with
 * one body byte changed), its event type is one its rule names, and the rule's `when` and
 * customer expressions find their values in the vendor's payload.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { search } from '@aws-lambda-powertools/jmespath';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { parseHttpEvent } from '../lib/http-event';
import type { EventTypeSelector } from '../lib/rules/types';
import { verifyWebhook } from '../lib/webhook-auth';
import { parseWebhookPayloads } from '../lib/webhook-payloads';
import { EXAMPLES_DIR } from '../local/host/examples';
import { demoSigningSecret, type SecretVerifyConfig } from '../local/host/webhook-signing';
import { Findings } from '../tooling/rules/report';
import { defaultEventType, readVerify } from '../tooling/rules/verify';
import { tampered } from './support/webhook-auth';
import { parse } from 'yaml';

interface RawRule {
  source: string;
  eventType: string | string[];
  when?: string;
  customer: Record<string, string>;
}

// A vendor example is a setup guide: its README says what to click in the vendor's UI.
const vendorExamples = readdirSync(EXAMPLES_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(EXAMPLES_DIR, entry.name, 'README.md')))
  .map((entry) => entry.name)
  .sort();

function load(name: string) {
  const dir = join(EXAMPLES_DIR, name);
  const rules = parse(readFileSync(join(dir, 'rules.yml'), 'utf8')) as { sources: Record<string, { verify: unknown; eventType?: EventTypeSelector }>; rules: RawRule[] };
  const event = JSON.parse(readFileSync(join(dir, 'event.json'), 'utf8')) as APIGatewayProxyEventV2;
  const source = event.pathParameters!.source!;
  const findings = new Findings();
  const verify = readVerify(rules.sources[source]!.verify, findings.at(`sources.${source}`)) as SecretVerifyConfig;
  expect(findings.problems).toEqual([]);
  const readme = readFileSync(join(dir, 'README.md'), 'utf8');
  return { rules, event, source, verify, readme, eventType: rules.sources[source]!.eventType ?? defaultEventType(verify) };
}

describe('vendor examples', () => {
  it('cover the senders the README lists', () => {
    expect(vendorExamples).toEqual([
      'calendly-invitee-canceled',
      'chargebee-subscription-cancelled',
      'clerk-user-deleted',
      'github-sponsorship-cancelled',
      'helpcrunch-chat-closed',
      'helpcrunch-customer-unsubscribed',
      'hubspot-deal-closedlost',
      'paddle-subscription-canceled',
      'pipedrive-deal-lost',
      'shopify-orders-cancelled',
      'stripe-customer-subscription-deleted',
    ]);
  });

  it.each(vendorExamples)('%s: its event verifies with the demo secret at the time it was sent, and not with its body changed', (name) => {
    const { event, verify } = load(name);
    const request = parseHttpEvent(event);
    const secret = demoSigningSecret(verify);

    expect(() => verifyWebhook(verify, request, secret, event.requestContext.timeEpoch)).not.toThrow();
    // Basic authentication (Chargebee) covers the sender, not the body.
    if (verify.scheme === 'basic') return;
    expect(() => verifyWebhook(verify, { ...request, rawBody: tampered(request.rawBody) }, secret, event.requestContext.timeEpoch)).toThrow();
  });

  it.each(vendorExamples)('%s: its rule matches the payload by event type, when and customer', (name) => {
    const { rules, event, source, eventType } = load(name);
    const request = parseHttpEvent(event);
    const payloads = parseWebhookPayloads(request.rawBody, request.headers['content-type']);
    const [rule] = rules.rules.filter((candidate) => candidate.source === source);

    expect(eventType).toBeDefined();
    for (const payload of payloads) {
      const type = 'header' in eventType! ? request.headers[eventType.header.toLowerCase()] : search(eventType!.field, payload);
      expect([rule!.eventType].flat()).toContain(type);
      if (rule!.when) expect(search(rule!.when, payload)).toBe(true);
      const expression = rule!.customer.from ?? Object.values(rule!.customer)[0]!;
      expect(search(expression, payload)).toEqual(expect.anything());
    }
  });

  it.each(vendorExamples)('%s: its README says where to point the vendor', (name) => {
    const { source, readme } = load(name);
    expect(readme).toContain(`https://<api>/webhooks/${source}`);
  });
});
