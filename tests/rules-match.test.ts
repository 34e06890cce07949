import { describe, expect, it } from 'vitest';
import { BadEventError, UnknownSourceError } from '../lib/errors';
import { compileRules } from '../lib/rules/match';
import type { RuleConfig } from '../lib/rules/types';
import { validateRulesConfig } from '../tooling/rules/validate';

/** A rule as written in rules.yml, where source and eventType may be a single string. */
type RawRule = Omit<Partial<RuleConfig>, 'source' | 'eventType' | 'customer'> & {
  source?: string | string[];
  eventType?: string | string[];
  customer?: Record<string, string>;
};
type RawSources = Record<string, { verify: Record<string, unknown>; eventType?: Record<string, string> }>;

/**
 * Rules go through the validator, as they do at build time. Every rule source that is not a
 * webhook source is declared an EventBridge source (on the default bus unless `buses` says).
 */
function ruleSet(
  rules: RawRule[],
  sources: RawSources = { crm: { verify: { scheme: 'none' } } },
  buses: Record<string, string> = {},
) {
  const withDefaults = rules.map((rule, index) => ({
    name: `rule-${index}`,
    source: 'crm',
    customer: { email: 'person.email' },
    removeTags: ['Lead'],
    ...rule,
  }));
  const eventSourceNames = withDefaults
    .flatMap((rule) => [rule.source].flat())
    .filter((name) => !Object.hasOwn(sources, name));
  const eventSources = Object.fromEntries(
    eventSourceNames.map((name) => [name, buses[name] ? { bus: buses[name] } : {}]),
  );
  return compileRules(validateRulesConfig({ sources, eventSources, rules: withDefaults }));
}

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

const person = { person: { email: 'ann@example.com' } };

describe('webhookSource', () => {
  const rules = ruleSet([{ source: ['crm', 'billing.app'] }], {
    crm: { verify: { scheme: 'token', header: 'X-Token', secretId: 'crm/token' } },
  });

  it('returns the configured source', () => {
    expect(rules.webhookSource('crm')).toEqual({
      verify: { scheme: 'token', header: 'X-Token', secretId: 'crm/token' },
    });
  });

  it.each(['CRM', 'billing.app', '__proto__', 'constructor', 'toString', ''])('knows nothing of %j', (name) => {
    expect(rules.webhookSource(name)).toBeUndefined();
  });
});

describe('matchWebhook', () => {
  it('turns a matching payload into a job for the customer', () => {
    const rules = ruleSet([{ name: 'deal-lost', when: "status == 'lost'", removeTags: ['Lead', 'Trial user'] }]);
    expect(rules.matchWebhook({ source: 'crm', payload: { status: 'lost', ...person }, headers: {} })).toEqual([
      {
        rule: 'deal-lost',
        customer: { by: 'email', value: 'ann@example.com' },
        removeTags: ['Lead', 'Trial user'],
        addTags: [],
      },
    ]);
    expect(rules.matchWebhook({ source: 'crm', payload: { status: 'won', ...person }, headers: {} })).toEqual([]);
  });

  it('applies a rule without `when` to every payload of its source', () => {
    expect(ruleSet([{ name: 'always' }]).matchWebhook({ source: 'crm', payload: person, headers: {} })).toHaveLength(1);
  });

  it('returns a job for every matching rule, in rule order', () => {
    const rules = ruleSet([
      { name: 'first', removeTags: ['A'] },
      { name: 'skipped', when: 'never' },
      { name: 'second', customer: { userId: 'uid' }, removeTags: ['B'] },
    ]);
    expect(rules.matchWebhook({ source: 'crm', payload: { ...person, uid: 'u-1' }, headers: {} })).toEqual([
      { rule: 'first', customer: { by: 'email', value: 'ann@example.com' }, removeTags: ['A'], addTags: [] },
      { rule: 'second', customer: { by: 'userId', value: 'u-1' }, removeTags: ['B'], addTags: [] },
    ]);
  });

  it.each([
    ['false', false],
    ['null', null],
    ['an empty string', ''],
    ['an empty array', []],
    ['an empty object', {}],
    ['absent', undefined],
  ])('treats %s as false in `when`', (_, flag) => {
    expect(
      ruleSet([{ when: 'flag' }]).matchWebhook({ source: 'crm', payload: { ...person, flag }, headers: {} }),
    ).toEqual([]);
  });

  it.each([
    ['true', true],
    ['0 (truthy in JMESPath)', 0],
    ['a string', 'no'],
    ['a non-empty array', [false]],
    ['a non-empty object', { a: null }],
  ])('treats %s as true in `when`', (_, flag) => {
    expect(
      ruleSet([{ when: 'flag' }]).matchWebhook({ source: 'crm', payload: { ...person, flag }, headers: {} }),
    ).toHaveLength(1);
  });

  it('evaluates `when` over arrays in the payload', () => {
    const rules = ruleSet([
      { name: 'vip', when: "contains(labels, 'vip')" },
      { name: 'any-lost', when: "length(deals[?status == 'lost']) > `0`" },
    ]);
    const names = (payload: Record<string, unknown>) =>
      rules.matchWebhook({ source: 'crm', payload: { ...person, ...payload }, headers: {} }).map((job) => job.rule);
    expect(names({ labels: ['new', 'vip'], deals: [{ status: 'won' }, { status: 'lost' }] })).toEqual([
      'vip',
      'any-lost',
    ]);
    expect(names({ labels: ['new'], deals: [{ status: 'won' }] })).toEqual([]);
  });

  it('rejects an event whose `when` cannot be evaluated, naming the rule', () => {
    const rules = ruleSet([{ name: 'counted', when: 'length(items) > `1`' }]);
    const error = thrown(() => rules.matchWebhook({ source: 'crm', payload: person, headers: {} }));
    expect(error).toBeInstanceOf(BadEventError);
    expect(error).toMatchObject({ code: 'invalid_event' });
    expect(error.message).toMatch(/^rule "counted": when \(length\(items\) > `1`\) failed: /);
  });

  it('hands each job its own tag list', () => {
    const rules = ruleSet([{ removeTags: ['Lead'] }]);
    rules.matchWebhook({ source: 'crm', payload: person, headers: {} })[0]!.removeTags.push('Mutated');
    expect(rules.matchWebhook({ source: 'crm', payload: person, headers: {} })[0]!.removeTags).toEqual(['Lead']);
  });

  it('refuses a source that is not a webhook source, even one EventBridge rules use', () => {
    const rules = ruleSet([{ source: ['crm', 'billing.app'] }]);
    expect(() => rules.matchWebhook({ source: 'billing.app', payload: person, headers: {} })).toThrowError(
      UnknownSourceError,
    );
    expect(() => rules.matchWebhook({ source: 'nope', payload: person, headers: {} })).toThrowError(
      "Unknown webhook source 'nope'",
    );
  });

  it('only applies rules of the source the webhook came to', () => {
    const rules = ruleSet(
      [
        { name: 'crm-rule', source: 'crm' },
        { name: 'both', source: ['crm', 'billing'] },
      ],
      { crm: { verify: { scheme: 'none' } }, billing: { verify: { scheme: 'none' } } },
    );
    expect(rules.matchWebhook({ source: 'billing', payload: person, headers: {} }).map((job) => job.rule)).toEqual([
      'both',
    ]);
    expect(rules.matchWebhook({ source: 'crm', payload: person, headers: {} }).map((job) => job.rule)).toEqual([
      'crm-rule',
      'both',
    ]);
  });
});

describe('customer extraction', () => {
  const byId = ruleSet([{ name: 'by-id', customer: { helpcrunchId: 'customer.id' } }]);
  const idOf = (id: unknown) =>
    byId.matchWebhook({ source: 'crm', payload: { customer: { id } }, headers: {} })[0]!.customer;

  it.each([
    [42, 42],
    ['42', 42],
    ['007', 7],
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  ])('reads helpcrunchId %j as %j', (raw, expected) => {
    expect(idOf(raw)).toEqual({ by: 'helpcrunchId', value: expected });
  });

  it.each([
    ['4x', 'must be a positive HelpCrunch customer id below 2^53, got a string that is not one'],
    ['0', 'must be a positive HelpCrunch customer id below 2^53, got a string that is not one'],
    ['-1', 'must be a positive HelpCrunch customer id below 2^53, got a string that is not one'],
    ['9007199254740993', 'must be a positive HelpCrunch customer id below 2^53, got a string that is not one'],
    [0, 'must be a positive HelpCrunch customer id below 2^53, got 0'],
    [-1, 'must be a positive HelpCrunch customer id below 2^53, got -1'],
    [1.5, 'must be a whole number below 2^53, got 1.5'],
    [true, 'must be a positive HelpCrunch customer id below 2^53, got a boolean'],
    [[1], 'must be a positive HelpCrunch customer id below 2^53, got an array'],
    [{ id: 1 }, 'must be a positive HelpCrunch customer id below 2^53, got an object'],
  ])('rejects helpcrunchId %j, naming the rule and field', (raw, problem) => {
    const error = thrown(() => idOf(raw));
    expect(error).toBeInstanceOf(BadEventError);
    expect(error).toMatchObject({
      code: 'invalid_customer',
      message: `rule "by-id": customer.helpcrunchId (customer.id) ${problem}`,
    });
  });

  it('refuses an id beyond 2^53, which JSON parsing has already rounded to another customer', () => {
    const payload = JSON.parse('{"customer": {"id": 9007199254740993}}') as Record<string, unknown>;
    const error = thrown(() => byId.matchWebhook({ source: 'crm', payload, headers: {} }));
    expect(error).toMatchObject({ code: 'invalid_customer', message: expect.stringContaining('below 2^53') });
  });

  it.each([null, undefined, '', '  '])('reports a missing id (%j)', (raw) => {
    expect(() => idOf(raw)).toThrowError('rule "by-id": customer.helpcrunchId (customer.id) is missing');
  });

  it('still reads the old name `id`, as helpcrunchId', () => {
    const rules = ruleSet([{ name: 'old', customer: { id: 'helpcrunchId' } }]);
    expect(rules.matchWebhook({ source: 'crm', payload: { helpcrunchId: 9 }, headers: {} })[0]!.customer).toEqual({
      by: 'helpcrunchId',
      value: 9,
    });
  });

  it('reports a missing email with the rule, field and expression', () => {
    const rules = ruleSet([{ name: 'deal-lost', when: "status == 'lost'", customer: { email: 'person.email' } }]);
    const error = thrown(() =>
      rules.matchWebhook({ source: 'crm', payload: { status: 'lost', person: {} }, headers: {} }),
    );
    expect(error).toBeInstanceOf(BadEventError);
    expect(error).toMatchObject({
      code: 'invalid_customer',
      message: 'rule "deal-lost": customer.email (person.email) is missing',
    });
  });

  it('does not look for the customer when `when` is false', () => {
    const rules = ruleSet([{ when: "status == 'lost'" }]);
    expect(rules.matchWebhook({ source: 'crm', payload: { status: 'won' }, headers: {} })).toEqual([]);
  });

  it('never echoes payload values in the error', () => {
    const rules = ruleSet([{ name: 'by-email', customer: { email: 'contact' } }]);
    const error = thrown(() =>
      rules.matchWebhook({
        source: 'crm',
        payload: { contact: { email: 'private@example.com', token: 's3cret' } },
        headers: {},
      }),
    );
    expect(error.message).toBe('rule "by-email": customer.email (contact) must be a string, got an object');
    expect(thrown(() => idOf('private@example.com')).message).not.toContain('private');
  });

  it('reads userId as a string, whole numbers below 2^53 included', () => {
    const rules = ruleSet([{ customer: { userId: 'account.id' } }]);
    const userIdOf = (id: unknown) =>
      rules.matchWebhook({ source: 'crm', payload: { account: { id } }, headers: {} })[0]!.customer;
    expect(userIdOf('u-42')).toEqual({ by: 'userId', value: 'u-42' });
    expect(userIdOf(42)).toEqual({ by: 'userId', value: '42' });
    expect(() => userIdOf(['u-42'])).toThrowError(
      'rule "rule-0": customer.userId (account.id) must be a string or a whole number, got an array',
    );
    const rounded = JSON.parse('{"account": {"id": 12345678901234567890}}') as Record<string, unknown>;
    expect(() => rules.matchWebhook({ source: 'crm', payload: rounded, headers: {} })).toThrowError(
      /customer.userId \(account.id\) must be a whole number below 2\^53/,
    );
  });

  it.each([
    ['email', 'a'.repeat(513), 'is longer than 512 characters'],
    ['userId', 'u'.repeat(600), 'is longer than 512 characters'],
    ['email', 'ann\uD800@example.com', 'is not valid Unicode'],
    ['userId', '\uDC00', 'is not valid Unicode'],
  ])('refuses a %s reference that %s… as invalid_customer, before anything is sent', (by, value, problem) => {
    const rules = ruleSet([{ customer: { [by]: 'ref' } }]);
    const error = thrown(() => rules.matchWebhook({ source: 'crm', payload: { ref: value }, headers: {} }));
    expect(error).toMatchObject({
      code: 'invalid_customer',
      message: `rule "rule-0": customer.${by} (ref) ${problem}`,
    });
  });

  it('takes the customer from an element of an array in the payload', () => {
    const rules = ruleSet([{ customer: { email: 'people[0].email' } }]);
    expect(
      rules.matchWebhook({
        source: 'crm',
        payload: { people: [{ email: 'a@example.com' }, { email: 'b@example.com' }] },
        headers: {},
      })[0]!.customer,
    ).toEqual({
      by: 'email',
      value: 'a@example.com',
    });
  });

  it('normalises with lower(), upper() and trim()', () => {
    const rules = ruleSet([
      { name: 'lower', customer: { email: 'lower(trim(person.email))' } },
      { name: 'upper', customer: { userId: 'upper(account)' } },
    ]);
    const jobs = rules.matchWebhook({
      source: 'crm',
      payload: { person: { email: '  Ann@Example.COM ' }, account: 'u-7x' },
      headers: {},
    });
    expect(jobs.map((job) => job.customer)).toEqual([
      { by: 'email', value: 'ann@example.com' },
      { by: 'userId', value: 'U-7X' },
    ]);
  });

  it('refuses a value lower() cannot take as a bad event, not a crash', () => {
    const rules = ruleSet([{ name: 'lower', customer: { email: 'lower(person.email)' } }]);
    expect(() => rules.matchWebhook({ source: 'crm', payload: { person: { email: 7 } }, headers: {} })).toThrowError(
      expect.objectContaining({ code: 'invalid_customer' }),
    );
  });
});

describe('lookup customers', () => {
  const lookups = { stripe: { preset: 'stripe-customer', secretId: 'stripe/key' } };
  const rules = compileRules(
    validateRulesConfig({
      sources: { stripe: { verify: { scheme: 'none' } } },
      lookups,
      rules: [
        {
          name: 'churned',
          source: 'stripe',
          customer: { lookup: 'stripe', from: 'data.object.customer' },
          removeTags: ['Subscriber'],
          addTags: ['Churned'],
        },
      ],
    }),
  );
  const refOf = (customer: unknown) =>
    rules.matchWebhook({ source: 'stripe', payload: { data: { object: { customer } } }, headers: {} })[0]!;

  it("names the lookup and the sender's id, with both tag lists", () => {
    expect(refOf('cus_123')).toEqual({
      rule: 'churned',
      customer: { by: 'lookup', lookup: 'stripe', value: 'cus_123' },
      removeTags: ['Subscriber'],
      addTags: ['Churned'],
    });
  });

  it('takes whole numbers as ids (Pipedrive, HubSpot)', () => {
    expect(refOf(4711).customer).toEqual({ by: 'lookup', lookup: 'stripe', value: '4711' });
  });

  it.each([
    ['.', 'cannot be "." or ".."'],
    ['..', 'cannot be "." or ".."'],
    [1.5, 'must be a whole number below 2^53, got 1.5'],
    [{ id: 'x' }, 'must be a string or a whole number, got an object'],
    ['', 'is missing'],
  ])('refuses %j as invalid_customer', (value, problem) => {
    expect(thrown(() => refOf(value))).toMatchObject({
      code: 'invalid_customer',
      message: `rule "churned": customer.from (data.object.customer) ${problem}`,
    });
  });
});

describe('event types of webhooks', () => {
  const sources = {
    byHeader: { verify: { scheme: 'none' }, eventType: { header: 'X-GitHub-Event' } },
    byField: { verify: { scheme: 'none' }, eventType: { field: 'type' } },
    untyped: { verify: { scheme: 'none' } },
  };
  const rules = ruleSet(
    [
      { name: 'header-rule', source: 'byHeader', eventType: 'sponsorship' },
      { name: 'field-rule', source: 'byField', eventType: ['customer.subscription.deleted', 'customer.deleted'] },
      { name: 'any-type', source: ['byField', 'untyped'] },
    ],
    sources,
  );
  const names = (source: string, payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
    rules.matchWebhook({ source, payload: { ...person, ...payload }, headers }).map((job) => job.rule);

  it('reads the type from a header (any case in rules.yml, lower-cased by the HTTP event)', () => {
    expect(names('byHeader', {}, { 'x-github-event': 'sponsorship' })).toEqual(['header-rule']);
    expect(names('byHeader', {}, { 'x-github-event': 'push' })).toEqual([]);
  });

  it('reads the type from a payload field, and a rule may accept several', () => {
    expect(names('byField', { type: 'customer.deleted' })).toEqual(['field-rule', 'any-type']);
    expect(names('byField', { type: 'invoice.paid' })).toEqual(['any-type']);
  });

  it('never matches a typed rule to an event without a type', () => {
    expect(names('byHeader', {})).toEqual([]);
    expect(names('byField', {})).toEqual(['any-type']);
    expect(names('byField', { type: 7 })).toEqual(['any-type']);
    expect(names('byField', { type: '' })).toEqual(['any-type']);
  });
});

describe('matchEvent', () => {
  const rules = ruleSet([
    { name: 'crm-webhook' },
    {
      name: 'churned',
      source: 'billing.app',
      eventType: ['Subscription Cancelled', 'Subscription Expired'],
      customer: { userId: 'account.id' },
      removeTags: ['Subscriber'],
    },
    {
      name: 'closed',
      source: ['crm.app', 'legacy.app'],
      customer: { helpcrunchId: 'helpcrunchId' },
      removeTags: ['VIP'],
    },
    {
      name: 'big-closed',
      source: 'crm.app',
      when: 'amount > `100`',
      customer: { helpcrunchId: 'helpcrunchId' },
      removeTags: ['Big'],
    },
  ]);

  it('uses `detail` as the payload and filters by detail-type', () => {
    const event = (detailType: string) => ({ source: 'billing.app', detailType, detail: { account: { id: 'u-1' } } });
    expect(rules.matchEvent(event('Subscription Expired'))).toEqual([
      { rule: 'churned', customer: { by: 'userId', value: 'u-1' }, removeTags: ['Subscriber'], addTags: [] },
    ]);
    expect(rules.matchEvent(event('Subscription Renewed'))).toEqual([]);
  });

  it('matches any detail-type when the rule lists none, for each source in its list', () => {
    for (const source of ['crm.app', 'legacy.app']) {
      expect(
        rules.matchEvent({ source, detailType: 'Anything', detail: { helpcrunchId: 7 } }).map((job) => job.rule),
      ).toEqual(['closed']);
    }
    expect(
      rules.matchEvent({ source: 'crm.app', detailType: 'X', detail: { helpcrunchId: '7', amount: 101 } }),
    ).toEqual([
      { rule: 'closed', customer: { by: 'helpcrunchId', value: 7 }, removeTags: ['VIP'], addTags: [] },
      { rule: 'big-closed', customer: { by: 'helpcrunchId', value: 7 }, removeTags: ['Big'], addTags: [] },
    ]);
  });

  it('ignores events from undeclared sources and from webhook source names', () => {
    expect(rules.matchEvent({ source: 'other.app', detailType: 'X', detail: {} })).toEqual([]);
    expect(rules.matchEvent({ source: 'crm', detailType: 'X', detail: person })).toEqual([]);
  });

  it('rejects a matching event without detail as missing the customer', () => {
    expect(() => rules.matchEvent({ source: 'legacy.app', detailType: 'X', detail: undefined })).toThrowError(
      'rule "closed": customer.helpcrunchId (helpcrunchId) is missing',
    );
  });

  it('refuses data nested too deeply to evaluate as a bad event, not a crash', () => {
    const deep = ruleSet([{ name: 'deep', source: 'deep.app', when: 'a == b', customer: { userId: 'id' } }], {});
    let a: unknown = 1;
    let b: unknown = 1;
    for (let depth = 0; depth < 200_000; depth++) [a, b] = [[a], [b]];
    const error = thrown(() => deep.matchEvent({ source: 'deep.app', detailType: 'X', detail: { a, b, id: 'u' } }));
    expect(error).toBeInstanceOf(BadEventError);
    expect(error).toMatchObject({ code: 'invalid_event', message: expect.stringContaining('nested too deeply') });
  });
});

describe('explain', () => {
  const rules = ruleSet(
    [
      { name: 'typed', source: 'billing', eventType: 'subscription.cancelled', customer: { userId: 'customer_id' } },
      { name: 'conditional', source: 'billing', when: 'amount > `100`', customer: { userId: 'customer_id' } },
      { name: 'no-customer', source: 'billing', customer: { email: 'email' } },
    ],
    { billing: { verify: { scheme: 'none' }, eventType: { field: 'type' } } },
  );

  it('says per rule which check decided, with the values it evaluated to', () => {
    const explanation = rules.explainWebhook({
      source: 'billing',
      payload: { type: 'invoice.paid', amount: 150, customer_id: 'u-1' },
      headers: {},
    });
    expect(explanation).toEqual({
      source: 'billing',
      eventType: 'invoice.paid',
      rules: [
        {
          rule: 'typed',
          matched: false,
          failed: 'eventType',
          eventType: { accepted: ['subscription.cancelled'], ok: false },
        },
        {
          rule: 'conditional',
          matched: true,
          when: { expression: 'amount > `100`', value: true, ok: true },
          customer: { by: 'userId', expression: 'customer_id', value: 'u-1' },
        },
        {
          rule: 'no-customer',
          matched: false,
          failed: 'customer',
          customer: { by: 'email', expression: 'email', value: null },
          error: 'rule "no-customer": customer.email (email) is missing',
        },
      ],
    });
  });

  it('explains EventBridge events the same way, and knows nothing of undeclared sources', () => {
    const events = ruleSet(
      [{ name: 'churned', source: 'billing.app', eventType: 'Cancelled', customer: { userId: 'id' } }],
      {},
    );
    expect(
      events.explainEvent({ source: 'billing.app', detailType: 'Cancelled', detail: { id: 'u' } }).rules[0],
    ).toMatchObject({ matched: true });
    expect(events.explainEvent({ source: 'x.app', detailType: 'Cancelled', detail: {} }).rules).toEqual([]);
  });
});

describe('eventBridgePatterns', () => {
  it('gives one pattern per EventBridge source on its bus, merging event types so no event is delivered twice', () => {
    const rules = ruleSet(
      [
        { source: 'crm' },
        { source: 'billing.app', eventType: ['Cancelled', 'Expired'] },
        { source: ['billing.app', 'shop.app'], eventType: 'Expired' },
        { source: 'billing.app', eventType: 'Refunded' },
        { source: 'shop.app', eventType: 'Closed' },
        { source: ['crm.app', 'crm'] },
        { source: 'crm.app', eventType: 'Closed' },
      ],
      undefined,
      { 'shop.app': 'orders-bus' },
    );
    expect(rules.eventBridgePatterns()).toEqual([
      { source: 'billing.app', bus: 'default', detailType: ['Cancelled', 'Expired', 'Refunded'] },
      { source: 'shop.app', bus: 'orders-bus', detailType: ['Expired', 'Closed'] },
      { source: 'crm.app', bus: 'default' },
    ]);
  });

  it('is empty for webhook-only rules and hands out copies', () => {
    expect(ruleSet([{ source: 'crm' }]).eventBridgePatterns()).toEqual([]);
    const rules = ruleSet([{ source: 'a.app', eventType: 'X' }], {});
    rules.eventBridgePatterns()[0]!.detailType!.push('Y');
    expect(rules.eventBridgePatterns()).toEqual([{ source: 'a.app', bus: 'default', detailType: ['X'] }]);
  });
});

describe('RuleSet: what the functions read', () => {
  const rules = compileRules(
    validateRulesConfig({
      sources: {
        crm: { verify: { scheme: 'hmac-sha256', header: 'X-Signature', secretId: 'shared/webhook' } },
        billing: { verify: { scheme: 'standard-webhooks', secretId: 'shared/webhook' } },
        open: { verify: { scheme: 'none' } },
        stripe: { verify: { scheme: 'stripe', secretId: 'stripe/webhook' } },
      },
      lookups: {
        stripe: { preset: 'stripe-customer', secretId: 'stripe/api-key' },
        crm: {
          url: 'https://crm.example.com/contacts/{id}',
          auth: { bearer: true },
          secretId: 'crm/token',
          select: { email: 'email' },
        },
      },
      rules: [
        ...['crm', 'billing', 'open'].map((source) => ({
          name: source,
          source,
          customer: { email: 'email' },
          removeTags: ['Lead'],
        })),
        { name: 'stripe', source: 'stripe', customer: { lookup: 'stripe', from: 'id' }, removeTags: ['Lead'] },
        { name: 'crm-lookup', source: 'crm', customer: { lookup: 'crm', from: 'id' }, removeTags: ['Lead'] },
      ],
    }),
  );

  it('lists every signing secret once, and none for a source without one', () => {
    expect(rules.signingSecretIds()).toEqual(['shared/webhook', 'stripe/webhook']);
  });

  it('lists every lookup’s secret, and hands out the lookups as a copy', () => {
    expect(rules.lookupSecretIds()).toEqual(['stripe/api-key', 'crm/token']);
    const lookups = rules.lookups();
    expect(lookups.stripe).toEqual({ preset: 'stripe-customer', secretId: 'stripe/api-key', cacheSeconds: 300 });
    (lookups.stripe as { baseUrl?: string }).baseUrl = 'http://127.0.0.1:1';
    expect(rules.lookups().stripe).not.toHaveProperty('baseUrl');
  });
});
