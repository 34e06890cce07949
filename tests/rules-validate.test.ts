import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/errors';
import { MAX_TAG_LENGTH } from '../lib/rules/shape';
import { loadRulesFile } from '../tooling/rules/load';
import { InvalidRulesError, validateRules, validateRulesConfig } from '../tooling/rules/validate';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/rules/${name}`, import.meta.url));
const shippedRules = fileURLToPath(new URL('../rules.yml', import.meta.url));

/** A valid config; each case below breaks one thing in a fresh copy. */
type Raw = {
  sources: Record<string, any>;
  eventSources: Record<string, any>;
  rules: Record<string, any>[];
  [key: string]: unknown;
};
function validRaw(): Raw {
  return {
    sources: {
      crm: { verify: { scheme: 'hmac-sha256', header: 'X-Signature', prefix: 'sha256=', secretId: 'crm/webhook' } },
    },
    eventSources: { 'billing.app': {} },
    rules: [
      {
        name: 'deal-lost',
        source: 'crm',
        when: "status == 'lost'",
        customer: { email: 'person.email' },
        removeTags: ['Lead', 'Trial user'],
      },
      {
        name: 'churned',
        source: 'billing.app',
        eventType: 'Subscription Cancelled',
        customer: { userId: 'account.id' },
        removeTags: ['Subscriber'],
      },
    ],
  };
}

function problemsOf(raw: unknown): string[] {
  try {
    validateRulesConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRulesError);
    return (error as InvalidRulesError).problems;
  }
  throw new Error('expected the config to be rejected');
}

describe('validateRulesConfig: valid input', () => {
  it('normalises string-or-list fields to lists and fills defaults', () => {
    const config = validateRulesConfig(validRaw());
    expect(config.sources.crm.verify).toEqual({
      scheme: 'hmac',
      algorithm: 'sha256',
      header: 'X-Signature',
      prefix: 'sha256=',
      encoding: 'hex',
      secretId: 'crm/webhook',
    });
    expect(config.rules[0]).toEqual({
      name: 'deal-lost',
      source: ['crm'],
      when: "status == 'lost'",
      customer: { by: 'email', expression: 'person.email' },
      removeTags: ['Lead', 'Trial user'],
      addTags: [],
    });
    expect(config.rules[1]!.source).toEqual(['billing.app']);
    expect(config.rules[1]!.eventType).toEqual(['Subscription Cancelled']);
    expect(config.rules[1]).not.toHaveProperty('when');
    expect(config.eventSources).toEqual({ 'billing.app': { bus: 'default' } });
    expect(config.lookups).toEqual({});
  });

  it("gives a source its scheme's event type, id and time unless it names its own", () => {
    const raw = validRaw();
    raw.sources = {
      a: { verify: { scheme: 'stripe', secretId: 'a' } },
      b: { verify: { scheme: 'github', secretId: 'b' }, eventType: { field: 'action' } },
      c: { verify: { scheme: 'token', header: 'X-Token', secretId: 'c' } },
      d: {
        verify: { scheme: 'none' },
        eventType: { header: 'X-Event' },
        eventId: { header: 'X-Event-Id' },
        occurredAt: { field: 'meta.timestamp' },
      },
      e: { verify: { scheme: 'standard-webhooks', secretId: 'e' }, occurredAt: { field: 'created_at' } },
    };
    raw.rules[0]!.source = ['a', 'b', 'c', 'd', 'e'];
    expect(validateRulesConfig(raw).sources).toEqual({
      a: {
        verify: { scheme: 'stripe', secretId: 'a', toleranceSeconds: 300 },
        eventType: { field: 'type' },
        eventId: { field: 'id' },
        occurredAt: { field: 'created' },
      },
      b: {
        verify: { scheme: 'github', secretId: 'b' },
        eventType: { field: 'action' },
        eventId: { header: 'X-GitHub-Delivery' },
      },
      c: { verify: { scheme: 'token', header: 'X-Token', secretId: 'c' } },
      d: {
        verify: { scheme: 'none' },
        eventType: { header: 'X-Event' },
        eventId: { header: 'X-Event-Id' },
        occurredAt: { field: 'meta.timestamp' },
      },
      e: {
        verify: { scheme: 'standard-webhooks', secretId: 'e', toleranceSeconds: 300 },
        eventType: { field: 'type' },
        eventId: { header: ['webhook-id', 'svix-id'] },
        occurredAt: { field: 'created_at' },
      },
    });
  });

  it('allows an EventBridge-only config without sources', () => {
    const raw: Record<string, unknown> = { eventSources: { 'billing.app': {} }, rules: [validRaw().rules[1]] };
    expect(validateRulesConfig(raw).sources).toEqual({});
  });

  it('reads detailType as the old name of eventType', () => {
    const raw = validRaw();
    raw.rules[1]!.detailType = raw.rules[1]!.eventType;
    delete raw.rules[1]!.eventType;
    expect(validateRulesConfig(raw).rules[1]!.eventType).toEqual(['Subscription Cancelled']);
  });

  it('keeps each EventBridge source on its bus, by name or ARN', () => {
    const raw = validRaw();
    raw.eventSources = {
      'billing.app': { bus: 'billing-events' },
      'aws.partner/stripe.com/ed_1': {
        bus: 'arn:aws:events:eu-west-1:123456789012:event-bus/aws.partner/stripe.com/ed_1',
      },
    };
    raw.rules[1]!.source = ['billing.app', 'aws.partner/stripe.com/ed_1'];
    expect(validateRulesConfig(raw).eventSources).toEqual(raw.eventSources);
  });

  it('reads every customer form, addTags, and lookups with their defaults', () => {
    const raw = validRaw();
    raw.lookups = {
      stripe: { preset: 'stripe-customer', secretId: 'stripe/key' },
      pipedrive: {
        url: 'https://acme.pipedrive.com/api/v2/persons/{id}',
        auth: { query: 'api_token', secretId: 'pipedrive/token' },
        select: { email: 'data.emails[?primary].value | [0]' },
        cacheSeconds: 60,
      },
      local: { preset: 'paddle-customer', baseUrl: 'http://127.0.0.1:4011/', secretId: 'paddle/key' },
    };
    raw.rules = [
      { name: 'a', source: 'crm', customer: { helpcrunchId: 'hc' }, addTags: ['Won'] },
      {
        name: 'b',
        source: 'crm',
        customer: { lookup: 'stripe', from: 'data.object.customer' },
        removeTags: ['Subscriber'],
        addTags: ['Churned'],
      },
      { name: 'c', source: 'crm', customer: { lookup: 'pipedrive', from: 'data.person_id' }, removeTags: ['Lead'] },
      { name: 'd', source: 'billing.app', customer: { lookup: 'local', from: 'customer_id' }, removeTags: ['Lead'] },
    ];
    const config = validateRulesConfig(raw);
    expect(config.rules.map((rule) => [rule.customer, rule.removeTags, rule.addTags])).toEqual([
      [{ by: 'helpcrunchId', expression: 'hc' }, [], ['Won']],
      [{ by: 'lookup', lookup: 'stripe', expression: 'data.object.customer' }, ['Subscriber'], ['Churned']],
      [{ by: 'lookup', lookup: 'pipedrive', expression: 'data.person_id' }, ['Lead'], []],
      [{ by: 'lookup', lookup: 'local', expression: 'customer_id' }, ['Lead'], []],
    ]);
    expect(config.lookups).toEqual({
      stripe: { preset: 'stripe-customer', secretId: 'stripe/key', cacheSeconds: 300 },
      pipedrive: {
        url: 'https://acme.pipedrive.com/api/v2/persons/{id}',
        auth: { in: 'query', name: 'api_token' },
        secretId: 'pipedrive/token',
        select: { by: 'email', expression: 'data.emails[?primary].value | [0]' },
        cacheSeconds: 60,
      },
      local: { preset: 'paddle-customer', baseUrl: 'http://127.0.0.1:4011', secretId: 'paddle/key', cacheSeconds: 300 },
    });
  });

  it('warns about the old customer key `id` and unused lookups, and still accepts them', () => {
    const raw = validRaw();
    raw.rules[0]!.customer = { id: 'hc' };
    raw.lookups = { spare: { preset: 'hubspot-contact', secretId: 'hubspot/token' } };
    const { config, warnings } = validateRules(raw);
    expect(config.rules[0]!.customer).toEqual({ by: 'helpcrunchId', expression: 'hc' });
    expect(warnings).toEqual([
      'rules[0] "deal-lost": customer.id: is now called helpcrunchId (it must be a HelpCrunch customer id, never the sender’s own id)',
      'lookups.spare: not used by any rule',
    ]);
  });

  it('allows conditional rules that remove and add the same tag (settled per event)', () => {
    const raw = validRaw();
    raw.rules.push({
      name: 'deal-won',
      source: 'crm',
      when: "status == 'won'",
      customer: { email: 'person.email' },
      addTags: ['Lead'],
    });
    expect(() => validateRulesConfig(raw)).not.toThrow();
  });

  it('returns lists that later edits of the input do not change', () => {
    const raw = validRaw();
    const config = validateRulesConfig(raw);
    raw.rules[0].removeTags.push('Other');
    expect(config.rules[0].removeTags).toEqual(['Lead', 'Trial user']);
  });
});

describe('tag names', () => {
  it(`accepts ${MAX_TAG_LENGTH} characters, counted as characters (not UTF-16 units), and emoji sequences`, () => {
    const raw = validRaw();
    const astral = '😀'.repeat(MAX_TAG_LENGTH);
    raw.rules[0]!.removeTags = ['x'.repeat(MAX_TAG_LENGTH), astral, 'Team 👩‍👩‍👧', 'Ünïcödé – “quoted”'];
    expect(validateRulesConfig(raw).rules[0]!.removeTags).toEqual(raw.rules[0]!.removeTags);
  });

  it('never echoes the unsafe character itself', () => {
    const raw = validRaw();
    raw.rules[0]!.removeTags = ['Lead\u202e', 'Trial\u0000'];
    const problems = problemsOf(raw).join('\n');
    expect(problems).not.toContain('\u202e');
    expect(problems).not.toContain('\u0000');
    expect(problems).toContain('"Lead\\u202e"');
    expect(problems).toContain('"Trial\\u0000"');
  });
});

describe('validateRulesConfig: each problem names where it is', () => {
  const cases: [string, (raw: Raw) => void, string][] = [
    [
      'a typo in a rule key',
      (r) => ((r.rules[0]!.removetags = ['Lead']), delete r.rules[0]!.removeTags),
      'rules[0] "deal-lost": removetags: unknown key (did you mean removeTags?)',
    ],
    [
      'a near typo in a rule key',
      (r) => (r.rules[0]!.adTags = ['Lead']),
      'rules[0] "deal-lost": adTags: unknown key (did you mean addTags?)',
    ],
    ['an unknown top-level key', (r) => (r.rule = []), 'top level: rule: unknown key (did you mean rules?)'],
    [
      'an unrelated top-level key',
      (r) => (r.settings = {}),
      'top level: settings: unknown key (expected sources, eventSources, lookups, rules)',
    ],
    [
      'no customer key',
      (r) => (r.rules[1]!.customer = {}),
      'rules[1] "churned": customer: exactly one of helpcrunchId | email | userId | lookup (with from) is required',
    ],
    [
      'a missing customer',
      (r) => delete r.rules[1]!.customer,
      'rules[1] "churned": customer: exactly one of helpcrunchId | email | userId | lookup (with from) is required',
    ],
    [
      'two customer keys',
      (r) => (r.rules[1]!.customer = { helpcrunchId: 'a', email: 'b' }),
      'rules[1] "churned": customer: exactly one of helpcrunchId | email | userId | lookup (with from) is required, got helpcrunchId, email',
    ],
    [
      'a customer key typo',
      (r) => (r.rules[0]!.customer = { email: 'a', userid: 'b' }),
      'rules[0] "deal-lost": customer.userid: unknown key (did you mean userId?)',
    ],
    [
      'both id and helpcrunchId',
      (r) => (r.rules[0]!.customer = { id: 'a', helpcrunchId: 'b' }),
      'rules[0] "deal-lost": customer.id: is the old name of helpcrunchId: give only helpcrunchId',
    ],
    [
      'a customer that is not a mapping',
      (r) => (r.rules[0]!.customer = 'person.email'),
      'rules[0] "deal-lost": customer: must be a mapping: exactly one of',
    ],
    [
      'a customer expression that does not parse',
      (r) => (r.rules[0]!.customer = { email: 'person.' }),
      'rules[0] "deal-lost": customer.email: invalid JMESPath',
    ],
    [
      'an empty customer expression',
      (r) => (r.rules[0]!.customer = { helpcrunchId: '' }),
      'rules[0] "deal-lost": customer.helpcrunchId: must be a non-empty JMESPath expression',
    ],
    [
      'a lookup without from',
      (r) => (r.rules[0]!.customer = { lookup: 'stripe' }),
      'rules[0] "deal-lost": customer.from: is required with lookup: a JMESPath naming the sender\'s own id',
    ],
    [
      'a lookup and an email',
      (r) => (r.rules[0]!.customer = { lookup: 'stripe', from: 'id', email: 'e' }),
      'rules[0] "deal-lost": customer: exactly one of helpcrunchId | email | userId | lookup (with from) is required, got email, lookup',
    ],
    [
      'an undefined lookup',
      (r) => (
        (r.lookups = { stripe: { preset: 'stripe-customer', secretId: 's' } }),
        (r.rules[0]!.customer = { lookup: 'strip', from: 'id' })
      ),
      'rules[0] "deal-lost": customer.lookup: "strip" is not defined under lookups (did you mean stripe?)',
    ],
    [
      'an unknown lookup preset',
      (r) => (
        (r.lookups = { s: { preset: 'stripe-customers', secretId: 's' } }),
        (r.rules[0]!.customer = { lookup: 's', from: 'id' })
      ),
      'lookups.s: preset: must be one of stripe-customer | paddle-customer | pipedrive-person | hubspot-contact | hubspot-deal-contacts (did you mean stripe-customer?)',
    ],
    [
      'a preset without secretId',
      (r) => (r.lookups = { s: { preset: 'stripe-customer' } }),
      'lookups.s: secretId: is required: a Secrets Manager secret name or ARN',
    ],
    [
      'a preset baseUrl with a path',
      (r) => (r.lookups = { s: { preset: 'stripe-customer', secretId: 's', baseUrl: 'https://api.stripe.com/v1' } }),
      'lookups.s: baseUrl: must be an origin only, e.g. https://api.stripe.com (the preset adds its own path)',
    ],
    [
      'a plain-http baseUrl',
      (r) => (r.lookups = { s: { preset: 'stripe-customer', secretId: 's', baseUrl: 'http://api.stripe.com' } }),
      'lookups.s: baseUrl: must use https (plain http only to a loopback host)',
    ],
    [
      'both preset and url',
      (r) => (r.lookups = { s: { preset: 'stripe-customer', url: 'https://x.test/{id}', secretId: 's' } }),
      'lookups.s: needs exactly one of `preset` (a vendor API) or `url` (any JSON API)',
    ],
    [
      'a url without {id}',
      (r) =>
        (r.lookups = {
          s: { url: 'https://x.test/persons', auth: { bearer: true }, secretId: 's', select: { email: 'email' } },
        }),
      'lookups.s: url: must contain {id} exactly once, got 0',
    ],
    [
      'a url with {id} twice',
      (r) =>
        (r.lookups = {
          s: { url: 'https://x.test/{id}/{id}', auth: { bearer: true }, secretId: 's', select: { email: 'email' } },
        }),
      'lookups.s: url: must contain {id} exactly once, got 2',
    ],
    [
      'a url with {id} in the host',
      (r) =>
        (r.lookups = {
          s: { url: 'https://{id}.x.test/p', auth: { bearer: true }, secretId: 's', select: { email: 'email' } },
        }),
      'lookups.s: url: {id} must be a whole path segment or a whole query value',
    ],
    [
      'a url with {id} inside a segment',
      (r) =>
        (r.lookups = {
          s: { url: 'https://x.test/p-{id}', auth: { bearer: true }, secretId: 's', select: { email: 'email' } },
        }),
      'lookups.s: url: {id} must be a whole path segment or a whole query value',
    ],
    [
      'a url with another placeholder',
      (r) =>
        (r.lookups = {
          s: { url: 'https://x.test/{org}/{id}', auth: { bearer: true }, secretId: 's', select: { email: 'email' } },
        }),
      'lookups.s: url: must contain no placeholder other than {id}',
    ],
    [
      'a url over plain http',
      (r) =>
        (r.lookups = {
          s: { url: 'http://x.test/{id}', auth: { bearer: true }, secretId: 's', select: { email: 'email' } },
        }),
      'lookups.s: url: must use https (plain http only to a loopback host)',
    ],
    [
      'an auth with two kinds',
      (r) =>
        (r.lookups = {
          s: {
            url: 'https://x.test/{id}',
            auth: { bearer: true, query: 'k' },
            secretId: 's',
            select: { email: 'email' },
          },
        }),
      'lookups.s: auth: must be {bearer: true}',
    ],
    [
      'a secretId beside and inside auth',
      (r) =>
        (r.lookups = {
          s: {
            url: 'https://x.test/{id}',
            auth: { bearer: true, secretId: 'a' },
            secretId: 'b',
            select: { email: 'email' },
          },
        }),
      'lookups.s: secretId: is given twice (beside and inside auth)',
    ],
    [
      'a select with two keys',
      (r) =>
        (r.lookups = {
          s: { url: 'https://x.test/{id}', auth: { bearer: true }, secretId: 's', select: { email: 'a', userId: 'b' } },
        }),
      'lookups.s: select: exactly one of email | userId | helpcrunchId',
    ],
    [
      'a missing select',
      (r) => (r.lookups = { s: { url: 'https://x.test/{id}', auth: { bearer: true }, secretId: 's' } }),
      'lookups.s: select: is required',
    ],
    [
      'a negative cacheSeconds',
      (r) => (r.lookups = { s: { preset: 'stripe-customer', secretId: 's', cacheSeconds: -1 } }),
      'lookups.s: cacheSeconds: must be a whole number from 0 to 86400',
    ],
    [
      'a `when` that does not parse',
      (r) => (r.rules[0]!.when = "status = 'lost'"),
      'rules[0] "deal-lost": when: invalid JMESPath',
    ],
    [
      'a `when` calling an unknown function',
      (r) => (r.rules[0]!.when = 'is_lost(status)'),
      'rules[0] "deal-lost": when: invalid JMESPath: Unknown function: is_lost()',
    ],
    [
      'a `when` calling a function with too many arguments',
      (r) => (r.rules[0]!.when = 'length(a, b)'),
      'rules[0] "deal-lost": when: invalid JMESPath: Expected at most 1 argument',
    ],
    [
      'lower() with two arguments',
      (r) => (r.rules[0]!.customer = { email: 'lower(a, b)' }),
      'rules[0] "deal-lost": customer.email: invalid JMESPath',
    ],
    [
      'an empty `when`',
      (r) => (r.rules[0]!.when = null),
      'rules[0] "deal-lost": when: must be a non-empty JMESPath expression',
    ],
    [
      'a duplicate rule name',
      (r) => (r.rules[1]!.name = 'deal-lost'),
      'rules[1] "deal-lost": name: duplicate of rules[0]',
    ],
    ['a missing name', (r) => delete r.rules[1]!.name, 'rules[1]: name: is required (a non-empty string)'],
    ['a blank name', (r) => (r.rules[1]!.name = '  '), 'rules[1] "  ": name: is required (a non-empty string)'],
    [
      'a name with surrounding spaces',
      (r) => (r.rules[1]!.name = 'churned '),
      'rules[1] "churned ": name: has leading or trailing whitespace',
    ],
    ['a missing source', (r) => delete r.rules[1]!.source, 'rules[1] "churned": source: is required'],
    ['an empty source', (r) => (r.rules[1]!.source = ''), 'rules[1] "churned": source: must not be empty'],
    ['an empty source list', (r) => (r.rules[1]!.source = []), 'rules[1] "churned": source: must not be empty'],
    [
      'a non-string source',
      (r) => (r.rules[1]!.source = { name: 'x' }),
      'rules[1] "churned": source: must be a string or a list of strings',
    ],
    [
      'a duplicate source',
      (r) => (r.rules[1]!.source = ['billing.app', 'billing.app']),
      'rules[1] "churned": source[1]: duplicate "billing.app"',
    ],
    [
      'a webhook source in the wrong case',
      (r) => (r.rules[0]!.source = 'CRM'),
      'rules[0] "deal-lost": source: "CRM" is neither a webhook source (sources) nor an EventBridge source (eventSources): did you mean crm?',
    ],
    [
      'a typo in an EventBridge source',
      (r) => (r.rules[1]!.source = 'biling.app'),
      'rules[1] "churned": source: "biling.app" is neither a webhook source (sources) nor an EventBridge source (eventSources): did you mean billing.app?',
    ],
    [
      'an undeclared EventBridge source',
      (r) => (r.rules[1]!.source = ['billing.app', 'orders.app']),
      'rules[1] "churned": source: "orders.app" is neither a webhook source (sources) nor an EventBridge source (eventSources): declare it in one of them',
    ],
    [
      'a name both webhook and EventBridge source',
      (r) => (r.eventSources.crm = {}),
      'eventSources.crm: is also a webhook source under `sources`',
    ],
    [
      'an unused EventBridge source',
      (r) => (r.eventSources['other.app'] = {}),
      'eventSources.other.app: not used by any rule',
    ],
    [
      'a bus that is no bus',
      (r) => (r.eventSources['billing.app'] = { bus: 'my bus' }),
      'eventSources.billing.app: bus: must be an event bus name or ARN',
    ],
    [
      'an eventSources entry key typo',
      (r) => (r.eventSources['billing.app'] = { buss: 'x' }),
      'eventSources.billing.app: buss: unknown key (did you mean bus?)',
    ],
    [
      'no tags at all',
      (r) => delete r.rules[0]!.removeTags,
      'rules[0] "deal-lost": removeTags: is required (or addTags): a rule must change at least one tag',
    ],
    [
      'empty removeTags and no addTags',
      (r) => (r.rules[0]!.removeTags = []),
      'rules[0] "deal-lost": removeTags: must not be empty',
    ],
    [
      'a tag both removed and added',
      (r) => (r.rules[0]!.addTags = ['Lead']),
      'rules[0] "deal-lost": addTags: "Lead" also in removeTags: a tag cannot be both removed and added',
    ],
    [
      '51 tags',
      (r) => (r.rules[0]!.removeTags = Array.from({ length: 51 }, (_, i) => `t${i}`)),
      'rules[0] "deal-lost": removeTags: at most 50 entries, got 51',
    ],
    [
      'a tag with surrounding spaces',
      (r) => (r.rules[0]!.removeTags = ['Lead', ' VIP']),
      'rules[0] "deal-lost": removeTags[1]: " VIP" has leading or trailing whitespace',
    ],
    [
      'a duplicate tag',
      (r) => (r.rules[0]!.addTags = ['Won', 'Won']),
      'rules[0] "deal-lost": addTags[1]: duplicate "Won"',
    ],
    ['an empty tag', (r) => (r.rules[0]!.removeTags = ['']), 'rules[0] "deal-lost": removeTags[0]: must not be empty'],
    ...(
      [
        ['a C0 control character', 'Lead\u0007', 'Lead\\u0007'],
        ['a tab', 'Lead\tB', 'Lead\\tB'],
        ['DEL', 'Lead\u007f', 'Lead\\u007f'],
        ['a C1 control character', 'Lead\u0085', 'Lead\\u0085'],
        ['a line separator', 'Lead\u2028', 'Lead\\u2028'],
        ['a right-to-left override', 'Lead\u202e', 'Lead\\u202e'],
        ['a left-to-right embedding', '\u202aLead', '\\u202aLead'],
        ['a first-strong isolate', 'Lead\u2068x\u2069', 'Lead\\u2068x\\u2069'],
        ['a right-to-left mark', 'Lead\u200f', 'Lead\\u200f'],
        ['an Arabic letter mark', 'Lead\u061c', 'Lead\\u061c'],
      ] as const
    ).map(([what, tag, shown]): [string, (raw: Raw) => void, string] => [
      `a tag with ${what}`,
      (r) => (r.rules[0]!.addTags = ['Won', tag]),
      `rules[0] "deal-lost": addTags[1]: "${shown}" contains a control character, a line separator or a bidirectional or invisible mark (shown escaped): tags must be plain printable text`,
    ]),
    [
      'a tag longer than HelpCrunch takes',
      (r) => (r.rules[0]!.removeTags = ['Lead', 'x'.repeat(MAX_TAG_LENGTH + 1)]),
      `rules[0] "deal-lost": removeTags[1]: "${'x'.repeat(MAX_TAG_LENGTH + 1)}" is longer than ${MAX_TAG_LENGTH} characters`,
    ],
    [
      'a tag YAML read as a number',
      (r) => (r.rules[0]!.removeTags = [2024]),
      'rules[0] "deal-lost": removeTags[0]: must be a string (quote it in YAML)',
    ],
    [
      'tags given as one string',
      (r) => (r.rules[0]!.removeTags = 'Lead'),
      'rules[0] "deal-lost": removeTags: must be a list of strings',
    ],
    [
      'eventType on an untyped webhook source',
      (r) => (r.rules[0]!.eventType = 'deal.lost'),
      'rules[0] "deal-lost": eventType: source crm has no event type: set sources.crm.eventType',
    ],
    [
      'both eventType and detailType',
      (r) => (r.rules[1]!.detailType = 'X'),
      'rules[1] "churned": detailType: is the old name of eventType: give only eventType',
    ],
    ['an empty eventType', (r) => (r.rules[1]!.eventType = []), 'rules[1] "churned": eventType: must not be empty'],
    [
      'a source eventType with both header and field',
      (r) => (r.sources.crm.eventType = { header: 'X-Event', field: 'type' }),
      'sources.crm: eventType: must be {header: <HTTP header>} or {field: <JMESPath into the payload>}',
    ],
    [
      'a source eventType field that does not parse',
      (r) => (r.sources.crm.eventType = { field: 'type.' }),
      'sources.crm: eventType.field: invalid JMESPath',
    ],
    [
      'a source eventId that is a bare string',
      (r) => (r.sources.crm.eventId = 'X-Event-Id'),
      'sources.crm: eventId: must be {header: <HTTP header>} or {field: <JMESPath into the payload>}',
    ],
    [
      'a source eventId header that is no header name',
      (r) => (r.sources.crm.eventId = { header: 'X Event Id' }),
      'sources.crm: eventId.header: must be an HTTP header name',
    ],
    [
      'a source occurredAt field that does not parse',
      (r) => (r.sources.crm.occurredAt = { field: 'meta.' }),
      'sources.crm: occurredAt.field: invalid JMESPath',
    ],
    [
      'a source occurredAt with an unknown key',
      (r) => (r.sources.crm.occurredAt = { feild: 'created' }),
      'sources.crm: occurredAt.feild: unknown key (did you mean field?)',
    ],
    [
      'unconditional rules undoing each other',
      (r) => (
        delete r.rules[0]!.when,
        r.rules.push({ name: 'deal-any', source: 'crm', customer: { email: 'e' }, addTags: ['Lead'] })
      ),
      'rules "deal-lost" and "deal-any": "deal-lost" removes "Lead" and "deal-any" adds it for the same events (same source, no condition): one undoes the other',
    ],
    [
      'a token with both a header and a query parameter',
      (r) => (r.sources.crm.verify = { scheme: 'token', header: 'X-Token', query: 'key', secretId: 's' }),
      'sources.crm: verify: needs exactly one of `header` (the secret in a header) or `query` (the secret in the URL), got header, query',
    ],
    [
      'a token with neither',
      (r) => (r.sources.crm.verify = { scheme: 'token', secretId: 's' }),
      'sources.crm: verify: needs exactly one of `header` (the secret in a header) or `query` (the secret in the URL)',
    ],
    [
      'a query parameter that is no parameter name',
      (r) => (r.sources.crm.verify = { scheme: 'token', query: 'the key', secretId: 's' }),
      'sources.crm: verify.query: must be a query parameter name',
    ],
    [
      'answerGet that is not a boolean',
      (r) => (r.sources.crm.verify = { scheme: 'token', query: 'key', secretId: 's', answerGet: 'yes' }),
      'sources.crm: verify.answerGet: must be true or false',
    ],
    [
      'answerGet on a signing scheme',
      (r) => (r.sources.crm.verify = { scheme: 'stripe', secretId: 's', answerGet: true }),
      'sources.crm: verify.answerGet: not used by scheme stripe',
    ],
    [
      'a missing verify',
      (r) => delete r.sources.crm.verify,
      'sources.crm: verify: is required (write `scheme: none` to accept unsigned webhooks)',
    ],
    [
      'a verify that is not a mapping',
      (r) => (r.sources.crm.verify = 'none'),
      'sources.crm: verify: must be a mapping with a `scheme`',
    ],
    ['a source key typo', (r) => (r.sources.crm.verfy = {}), 'sources.crm: verfy: unknown key (did you mean verify?)'],
    [
      'a source name that is not a path segment',
      (r) => ((r.sources['crm/v2'] = r.sources.crm), delete r.sources.crm, (r.rules[0]!.source = 'crm/v2')),
      'sources.crm/v2: name must be letters, digits',
    ],
    [
      'a source that is not a mapping',
      (r) => (r.sources.crm = 'hmac-sha256'),
      'sources.crm: must be a mapping with `verify`',
    ],
    ['sources that are not a mapping', (r) => (r.sources = ['crm'] as never), 'top level: sources: must be a mapping'],
    [
      'an unused webhook source',
      (r) => (r.sources.billing = { verify: { scheme: 'none' } }),
      'sources.billing: not used by any rule',
    ],
    ['no rules', (r) => (r.rules = []), 'top level: rules: must be a list with at least one rule'],
    [
      'rules that are not a list',
      (r) => (r.rules = {} as never),
      'top level: rules: must be a list with at least one rule',
    ],
    [
      'a rule that is not a mapping',
      (r) => (r.rules[1] = 'churned' as never),
      'rules[1]: must be a mapping with name, source, customer and removeTags and/or addTags',
    ],
  ];

  it.each(cases)('%s', (_, breakIt, expected) => {
    const raw = validRaw();
    breakIt(raw);
    expect(problemsOf(raw)).toContainEqual(expect.stringContaining(expected));
  });

  it('rejects a top level that is not a mapping', () => {
    const expected = ['top level: must be a mapping with `rules` (and `sources`, `eventSources`, `lookups`)'];
    expect(problemsOf(null)).toEqual(expected);
    expect(problemsOf([validRaw()])).toEqual(expected);
  });

  it('collects every problem into one ConfigError with code invalid_rules', () => {
    const raw = validRaw();
    raw.rules[0]!.removetags = raw.rules[0]!.removeTags;
    raw.rules[1]!.customer = {};
    raw.sources.crm.verify = 'sha256';

    let error: unknown;
    try {
      validateRulesConfig(raw);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { code, status, message, problems } = error as InvalidRulesError;
    expect({ code, status }).toEqual({ code: 'invalid_rules', status: 500 });
    expect(problems).toEqual([
      'sources.crm: verify: must be a mapping with a `scheme`',
      'rules[0] "deal-lost": removetags: unknown key (did you mean removeTags?)',
      'rules[1] "churned": customer: exactly one of helpcrunchId | email | userId | lookup (with from) is required',
    ]);
    expect(message).toBe(`rules config is invalid (3 problems):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  });

  it('does not report a source as unused when the rule using it has other problems', () => {
    const raw = validRaw();
    raw.rules[0]!.removeTags = [];
    expect(problemsOf(raw)).toEqual(['rules[0] "deal-lost": removeTags: must not be empty']);
  });
});

describe('loadRulesFile', () => {
  it('loads the shipped rules.yml (an invalid rules.yml fails npm test here)', () => {
    const config = loadRulesFile(shippedRules);
    expect(config.rules.length).toBeGreaterThan(0);
  });

  it('names the file, the rules and the fields of an invalid file', () => {
    expect(() => loadRulesFile(fixture('invalid.yml'))).toThrowError(
      [
        'tests/fixtures/rules/invalid.yml is invalid (4 problems):',
        '  - sources.crm: verify.header: is required for scheme hmac-sha256',
        '  - rules[0] "deal-lost": removetags: unknown key (did you mean removeTags?)',
        '  - rules[0] "deal-lost": removeTags: is required (or addTags): a rule must change at least one tag',
        '  - rules[1] "churned": customer: exactly one of helpcrunchId | email | userId | lookup (with from) is required',
      ].join('\n'),
    );
  });

  it('reports YAML syntax errors with their line', () => {
    let error: unknown;
    try {
      loadRulesFile(fixture('syntax-error.yml'));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidRulesError);
    expect((error as Error).message).toMatch(/^tests\/fixtures\/rules\/syntax-error\.yml is invalid/);
    expect((error as InvalidRulesError).problems[0]).toMatch(/^line [45], column \d+: YAML syntax error: /);
  });

  it('names a file it cannot read', () => {
    expect(() => loadRulesFile(fixture('missing.yml'))).toThrowError(
      new ConfigError('tests/fixtures/rules/missing.yml: cannot read rules file (ENOENT)', 'invalid_rules'),
    );
  });
});
