/**
 * Every example whose customer is a lookup (Stripe, Paddle, Pipedrive, HubSpot) holds together end
 * to end: its rules match its event, its lookup finds the person through the vendor stand-in
 * (the vendor's documented answers), and the job changes that customer's tags in the sandbox.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHelpCrunchClient } from '../lib/helpcrunch/client';
import { parseHttpEvent } from '../lib/http-event';
import { withOrigins } from '../lib/lookups/origins';
import { createLookupResolver } from '../lib/lookups/resolver';
import { executeJobs } from '../lib/pipeline';
import { RetryBudget } from '../lib/retry';
import { compileRules } from '../lib/rules/match';
import { parseWebhookPayloads } from '../lib/webhook-payloads';
import { EXAMPLES_DIR, type WebhookExample } from '../local/host/examples';
import { startHelpCrunchSandbox, type HelpCrunchSandbox } from '../local/sandbox/helpcrunch-sandbox';
import { demoLookupSecrets, startVendorApis, type VendorApis } from '../local/sandbox/vendor-apis';
import { loadRulesFile } from '../tooling/rules/load';
import { pipelineWith } from './support/pipeline';

/** Whom each example's lookup finds in the sandbox, and how that customer's tags change. */
const expected: Record<string, { customerId: number; status: string; removed: string[]; added: string[] }> = {
  'hubspot-deal-closedlost': { customerId: 1004, status: 'untagged', removed: ['Lead'], added: ['Deal lost'] },
  'paddle-subscription-canceled': { customerId: 1003, status: 'tagged', removed: [], added: ['Churned'] },
  'pipedrive-deal-lost': { customerId: 1001, status: 'untagged', removed: ['Lead', 'Trial user'], added: ['Deal lost'] },
  'stripe-customer-subscription-deleted': { customerId: 1002, status: 'untagged', removed: ['Subscriber'], added: ['Churned'] },
};

const withLookups = readdirSync(EXAMPLES_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && Object.keys(loadRulesFile(join(EXAMPLES_DIR, entry.name, 'rules.yml')).lookups).length > 0)
  .map((entry) => entry.name)
  .sort();

let sandbox: HelpCrunchSandbox;
let vendors: VendorApis;

beforeAll(async () => {
  [sandbox, vendors] = await Promise.all([startHelpCrunchSandbox(), startVendorApis()]);
});
afterAll(() => Promise.all([sandbox.close(), vendors.close()]));
beforeEach(() => sandbox.reset());

describe('examples with lookups', () => {
  it('are the Stripe, Paddle, Pipedrive and HubSpot ones', () => {
    expect(withLookups).toEqual(Object.keys(expected).sort());
  });

  it.each(withLookups)('%s: its lookup finds the customer through the vendor stand-in, and the job changes their tags', async (name) => {
    const config = loadRulesFile(join(EXAMPLES_DIR, name, 'rules.yml'));
    const event = JSON.parse(readFileSync(join(EXAMPLES_DIR, name, 'event.json'), 'utf8')) as WebhookExample['event'];
    const request = parseHttpEvent(event);
    const rules = compileRules(config);
    const jobs = parseWebhookPayloads(request.rawBody, request.headers['content-type']).flatMap((payload) =>
      rules.matchWebhook({ source: event.pathParameters!.source!, payload, headers: request.headers }),
    );
    const origins = Object.fromEntries(Object.keys(config.lookups).map((lookup) => [lookup, vendors.url]));
    const secrets = demoLookupSecrets(config.lookups, vendors.keys);
    const lookups = createLookupResolver({ lookups: withOrigins(config.lookups, origins), secrets: { get: async (id) => secrets[id]! } });
    const helpcrunch = createHelpCrunchClient({ baseUrl: sandbox.url, apiKey: { get: async () => sandbox.apiKey } });

    const { outcomes, failure } = await executeJobs(jobs, pipelineWith(helpcrunch, { lookups }), RetryBudget.until(Date.now() + 10_000));

    expect(failure).toBeUndefined();
    expect(outcomes).toEqual([expect.objectContaining({ rule: config.rules[0]!.name, ...expected[name] })]);
    const tags = sandbox.customer(expected[name]!.customerId)!.tags.map((tag) => tag.name);
    expect(tags).toEqual(expect.arrayContaining(expected[name]!.added));
    for (const tag of expected[name]!.removed) expect(tags).not.toContain(tag);
  });
});
