/**
 * rules.schema.json (for editors) is written from lib/rules/shape.ts, the definition the validator
 * checks with: it must be current on disk, and, read by any JSON Schema validator, accept every
 * valid rules file and refuse structural mistakes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { rulesSchema } from '../lib/rules/shape';
import { validateRulesConfig } from '../tooling/rules/validate';

const root = join(import.meta.dirname, '..');
const schema = rulesSchema();
const ajv = new Ajv({
  allErrors: true,
  strict: true,
  strictRequired: false,
  strictTypes: false,
  allowUnionTypes: true,
  discriminator: true,
  validateFormats: false,
});
// The two message annotations: editors show errorMessage, requiredMessage is the validator's.
ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
ajv.addKeyword({ keyword: 'requiredMessage', schemaType: 'string' });
const valid = ajv.compile(schema);
const yaml = (path: string) => parse(readFileSync(join(root, path), 'utf8')) as unknown;

/** A config using every section and form; each structural case below breaks one thing in a copy. */
function rich(): Record<string, any> {
  return {
    sources: {
      crm: { verify: { scheme: 'hmac-sha256', header: 'X-Signature', prefix: 'sha256=', secretId: 'crm/webhook' } },
      billing: {
        verify: { scheme: 'standard-webhooks', secretId: 'billing/webhook' },
        eventType: { field: 'type' },
        eventId: { header: 'webhook-id' },
        occurredAt: { field: 'created_at' },
      },
      open: { verify: { scheme: 'none' }, eventType: { header: 'X-Event' } },
    },
    eventSources: { 'billing.app': {}, 'orders.app': { bus: 'orders' }, 'crm.app': null },
    lookups: {
      stripe: { preset: 'stripe-customer', secretId: 'stripe/key', cacheSeconds: 60 },
      people: {
        url: 'https://people.example.com/api/{id}',
        auth: { query: 'api_token', secretId: 'people/token' },
        select: { email: 'data.email' },
      },
    },
    rules: [
      { name: 'a', source: 'crm', when: "status == 'lost'", customer: { email: 'person.email' }, removeTags: ['Lead'] },
      {
        name: 'b',
        source: ['billing', 'billing.app'],
        eventType: 'cancelled',
        customer: { lookup: 'stripe', from: 'customer' },
        removeTags: ['Subscriber'],
        addTags: ['Churned'],
      },
      { name: 'c', source: 'open', eventType: ['x'], customer: { lookup: 'people', from: 'id' }, addTags: ['Seen'] },
      {
        name: 'd',
        source: ['orders.app', 'crm.app'],
        detailType: 'Closed',
        customer: { helpcrunchId: 'hc' },
        removeTags: ['VIP'],
      },
      { name: 'e', source: 'orders.app', customer: { id: 'hc' }, removeTags: ['Old'] },
    ],
  };
}

describe('rules.schema.json', () => {
  it('is current: npm run rules-schema writes what lib/rules/shape.ts says', () => {
    expect(JSON.parse(readFileSync(join(root, 'rules.schema.json'), 'utf8'))).toEqual(schema);
  });

  it('accepts a config using every section and form, as the validator does', () => {
    expect(() => validateRulesConfig(rich())).not.toThrow();
    expect(valid(rich()), JSON.stringify(valid.errors)).toBe(true);
  });

  it.each([
    'rules.yml',
    'tests/fixtures/rules/suite.yml',
    'bench/rules.bench.yml',
    ...readdirSync(join(root, 'examples'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `examples/${entry.name}/rules.yml`),
  ])('accepts %s, which the validator accepts', (path) => {
    const config = yaml(path);
    expect(() => validateRulesConfig(config)).not.toThrow();
    expect(valid(config), JSON.stringify(valid.errors)).toBe(true);
  });

  const structural: [string, (raw: Record<string, any>) => void][] = [
    ['an unknown top-level key', (r) => (r.rule = [])],
    ['no rules', (r) => (r.rules = [])],
    ['a rule key typo', (r) => (r.rules[0].removetags = ['Lead'])],
    ['a rule without tags', (r) => delete r.rules[0].removeTags],
    ['a rule without customer', (r) => delete r.rules[0].customer],
    ['two customer keys', (r) => (r.rules[0].customer = { email: 'a', userId: 'b' })],
    ['a lookup without from', (r) => (r.rules[1].customer = { lookup: 'stripe' })],
    ['51 tags', (r) => (r.rules[0].removeTags = Array.from({ length: 51 }, (_, i) => `t${i}`))],
    ['a duplicate tag', (r) => (r.rules[0].addTags = ['X', 'X'])],
    ['a tag that is a number', (r) => (r.rules[0].removeTags = [2024])],
    ['an unknown scheme', (r) => (r.sources.crm.verify.scheme = 'sha256')],
    ['a field the scheme does not take', (r) => (r.sources.billing.verify.header = 'X')],
    ['a scheme missing a field', (r) => delete r.sources.crm.verify.header],
    ['a source key typo', (r) => (r.sources.crm.verfy = {})],
    ['an event type selector with both keys', (r) => (r.sources.billing.eventType = { field: 'type', header: 'X' })],
    ['an event id selector that is a string', (r) => (r.sources.billing.eventId = 'webhook-id')],
    ['an occurredAt selector with an unknown key', (r) => (r.sources.billing.occurredAt = { path: 'created_at' })],
    ['an unknown preset', (r) => (r.lookups.stripe.preset = 'stripe')],
    ['a preset with select', (r) => (r.lookups.stripe.select = { email: 'email' })],
    ['a generic lookup without {id}', (r) => (r.lookups.people.url = 'https://people.example.com/api')],
    ['an auth of two kinds', (r) => (r.lookups.people.auth = { bearer: true, query: 'k' })],
    ['a bus that is no bus', (r) => (r.eventSources['orders.app'] = { bus: 'my bus' })],
    [
      'a source name that is not a path segment',
      (r) => ((r.sources['a/b'] = r.sources.open), delete r.sources.open, (r.rules[2].source = 'a/b')),
    ],
  ];

  it.each(structural)('refuses %s, as the validator does', (_, breakIt) => {
    const raw = rich();
    breakIt(raw);
    expect(() => validateRulesConfig(raw)).toThrow();
    expect(valid(raw)).toBe(false);
  });
});
