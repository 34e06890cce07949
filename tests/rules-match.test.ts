import { describe, expect, it } from 'vitest';
import { BadEventError, UnknownSourceError } from '../lib/errors';
import { compileRules } from '../lib/rules/match';
import type { RuleConfig, RulesConfig } from '../lib/rules/types';
import { validateRulesConfig } from '../tooling/rules/validate';

/** A rule as written in rules.yml, where source and detailType may be a single string. */
type RawRule = Omit<Partial<RuleConfig>, 'source' | 'detailType'> & { source?: string | string[]; detailType?: string | string[] };

/** Rules go through the validator, as they do at build time. */
function ruleSet(rules: RawRule[], sources: RulesConfig['sources'] = { crm: { verify: { scheme: 'none' } } }) {
  const withDefaults = rules.map((rule, index) => ({
    name: `rule-${index}`,
    source: 'crm',
    customer: { email: 'person.email' },
    removeTags: ['Lead'],
    ...rule,
  }));
  return compileRules(validateRulesConfig({ sources, rules: withDefaults }));
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
    expect(rules.webhookSource('crm')).toEqual({ verify: { scheme: 'token', header: 'X-Token', secretId: 'crm/token' } });
  });

  it.each(['CRM', 'billing.app', '__proto__', 'constructor', 'toString', ''])('knows nothing of %j', (name) => {
    expect(rules.webhookSource(name)).toBeUndefined();
  });
});

describe('matchWebhook', () => {
  it('turns a matching payload into a job for the customer', () => {
    const rules = ruleSet([{ name: 'deal-lost', when: "status == 'lost'", removeTags: ['Lead', 'Trial user'] }]);
    expect(rules.matchWebhook('crm', { status: 'lost', ...person })).toEqual([
      { rule: 'deal-lost', customer: { by: 'email', value: 'ann@example.com' }, tags: ['Lead', 'Trial user'] },
    ]);
    expect(rules.matchWebhook('crm', { status: 'won', ...person })).toEqual([]);
  });

  it('applies a rule without `when` to every payload of its source', () => {
    expect(ruleSet([{ name: 'always' }]).matchWebhook('crm', person)).toHaveLength(1);
  });

  it('returns a job for every matching rule, in rule order', () => {
    const rules = ruleSet([
      { name: 'first', removeTags: ['A'] },
      { name: 'skipped', when: 'never' },
      { name: 'second', customer: { userId: 'uid' }, removeTags: ['B'] },
    ]);
    expect(rules.matchWebhook('crm', { ...person, uid: 'u-1' })).toEqual([
      { rule: 'first', customer: { by: 'email', value: 'ann@example.com' }, tags: ['A'] },
      { rule: 'second', customer: { by: 'userId', value: 'u-1' }, tags: ['B'] },
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
    expect(ruleSet([{ when: 'flag' }]).matchWebhook('crm', { ...person, flag })).toEqual([]);
  });

  it.each([
    ['true', true],
    ['0 (truthy in JMESPath)', 0],
    ['a string', 'no'],
    ['a non-empty array', [false]],
    ['a non-empty object', { a: null }],
  ])('treats %s as true in `when`', (_, flag) => {
    expect(ruleSet([{ when: 'flag' }]).matchWebhook('crm', { ...person, flag })).toHaveLength(1);
  });

  it('evaluates `when` over arrays in the payload', () => {
    const rules = ruleSet([
      { name: 'vip', when: "contains(labels, 'vip')" },
      { name: 'any-lost', when: "length(deals[?status == 'lost']) > `0`" },
    ]);
    const names = (payload: Record<string, unknown>) => rules.matchWebhook('crm', { ...person, ...payload }).map((job) => job.rule);
    expect(names({ labels: ['new', 'vip'], deals: [{ status: 'won' }, { status: 'lost' }] })).toEqual(['vip', 'any-lost']);
    expect(names({ labels: ['new'], deals: [{ status: 'won' }] })).toEqual([]);
  });

  it('rejects an event whose `when` cannot be evaluated, naming the rule', () => {
    const rules = ruleSet([{ name: 'counted', when: 'length(items) > `1`' }]);
    const error = thrown(() => rules.matchWebhook('crm', person));
    expect(error).toBeInstanceOf(BadEventError);
    expect(error).toMatchObject({ code: 'invalid_event' });
    expect(error.message).toMatch(/^rule "counted": when \(length\(items\) > `1`\) failed: /);
  });

  it('hands each job its own tag list', () => {
    const rules = ruleSet([{ removeTags: ['Lead'] }]);
    rules.matchWebhook('crm', person)[0].tags.push('Mutated');
    expect(rules.matchWebhook('crm', person)[0].tags).toEqual(['Lead']);
  });

  it('refuses a source that is not a webhook source, even one EventBridge rules use', () => {
    const rules = ruleSet([{ source: ['crm', 'billing.app'] }]);
    expect(() => rules.matchWebhook('billing.app', person)).toThrowError(UnknownSourceError);
    expect(() => rules.matchWebhook('nope', person)).toThrowError("Unknown webhook source 'nope'");
  });

  it('only applies rules of the source the webhook came to', () => {
    const rules = ruleSet(
      [
        { name: 'crm-rule', source: 'crm' },
        { name: 'both', source: ['crm', 'billing'] },
      ],
      { crm: { verify: { scheme: 'none' } }, billing: { verify: { scheme: 'none' } } },
    );
    expect(rules.matchWebhook('billing', person).map((job) => job.rule)).toEqual(['both']);
    expect(rules.matchWebhook('crm', person).map((job) => job.rule)).toEqual(['crm-rule', 'both']);
  });
});

describe('customer extraction', () => {
  const byId = ruleSet([{ name: 'by-id', customer: { id: 'customer.id' } }]);
  const idOf = (id: unknown) => byId.matchWebhook('crm', { customer: { id } })[0].customer;

  it.each([
    [42, 42],
    ['42', 42],
    ['007', 7],
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  ])('reads id %j as %j', (raw, expected) => {
    expect(idOf(raw)).toEqual({ by: 'id', value: expected });
  });

  it.each([
    ['4x', 'a string that is not one'],
    ['0', 'a string that is not one'],
    ['-1', 'a string that is not one'],
    ['9007199254740993', 'a string that is not one'],
    [0, '0'],
    [-1, '-1'],
    [1.5, '1.5'],
    [true, 'a boolean'],
    [[1], 'an array'],
    [{ id: 1 }, 'an object'],
  ])('rejects id %j, naming the rule and field', (raw, got) => {
    const error = thrown(() => idOf(raw));
    expect(error).toBeInstanceOf(BadEventError);
    expect(error).toMatchObject({
      code: 'invalid_customer',
      message: `rule "by-id": customer.id (customer.id) must be a positive integer, got ${got}`,
    });
  });

  it.each([null, undefined, '', '  '])('reports a missing id (%j)', (raw) => {
    expect(() => idOf(raw)).toThrowError('rule "by-id": customer.id (customer.id) is missing');
  });

  it('reports a missing email with the rule, field and expression', () => {
    const rules = ruleSet([{ name: 'deal-lost', when: "status == 'lost'", customer: { email: 'person.email' } }]);
    const error = thrown(() => rules.matchWebhook('crm', { status: 'lost', person: {} }));
    expect(error).toBeInstanceOf(BadEventError);
    expect(error).toMatchObject({ code: 'invalid_customer', message: 'rule "deal-lost": customer.email (person.email) is missing' });
  });

  it('does not look for the customer when `when` is false', () => {
    const rules = ruleSet([{ when: "status == 'lost'" }]);
    expect(rules.matchWebhook('crm', { status: 'won' })).toEqual([]);
  });

  it('never echoes payload values in the error', () => {
    const rules = ruleSet([{ name: 'by-email', customer: { email: 'contact' } }]);
    const error = thrown(() => rules.matchWebhook('crm', { contact: { email: 'private@example.com', token: 's3cret' } }));
    expect(error.message).toBe('rule "by-email": customer.email (contact) must be a string, got an object');
    const idError = thrown(() => idOf('private@example.com'));
    expect(idError.message).not.toContain('private');
  });

  it('reads userId as a string, numbers included', () => {
    const rules = ruleSet([{ customer: { userId: 'account.id' } }]);
    const userIdOf = (id: unknown) => rules.matchWebhook('crm', { account: { id } })[0].customer;
    expect(userIdOf('u-42')).toEqual({ by: 'userId', value: 'u-42' });
    expect(userIdOf(42)).toEqual({ by: 'userId', value: '42' });
    expect(() => userIdOf(['u-42'])).toThrowError('rule "rule-0": customer.userId (account.id) must be a string, got an array');
  });

  it('takes the customer from an element of an array in the payload', () => {
    const rules = ruleSet([{ customer: { email: 'people[0].email' } }]);
    expect(rules.matchWebhook('crm', { people: [{ email: 'a@example.com' }, { email: 'b@example.com' }] })[0].customer).toEqual({
      by: 'email',
      value: 'a@example.com',
    });
  });
});

describe('matchEvent', () => {
  const rules = ruleSet([
    { name: 'crm-webhook' },
    {
      name: 'churned',
      source: 'billing.app',
      detailType: ['Subscription Cancelled', 'Subscription Expired'],
      customer: { userId: 'account.id' },
      removeTags: ['Subscriber'],
    },
    { name: 'closed', source: ['crm.app', 'legacy.app'], customer: { id: 'helpcrunchId' }, removeTags: ['VIP'] },
    { name: 'big-closed', source: 'crm.app', when: 'amount > `100`', customer: { id: 'helpcrunchId' }, removeTags: ['Big'] },
  ]);

  it('uses `detail` as the payload and filters by detail-type', () => {
    const event = (detailType: string) => ({ source: 'billing.app', detailType, detail: { account: { id: 'u-1' } } });
    expect(rules.matchEvent(event('Subscription Expired'))).toEqual([
      { rule: 'churned', customer: { by: 'userId', value: 'u-1' }, tags: ['Subscriber'] },
    ]);
    expect(rules.matchEvent(event('Subscription Renewed'))).toEqual([]);
  });

  it('matches any detail-type when the rule lists none, for each source in its list', () => {
    for (const source of ['crm.app', 'legacy.app']) {
      expect(rules.matchEvent({ source, detailType: 'Anything', detail: { helpcrunchId: 7 } }).map((job) => job.rule)).toEqual([
        'closed',
      ]);
    }
    expect(rules.matchEvent({ source: 'crm.app', detailType: 'X', detail: { helpcrunchId: '7', amount: 101 } })).toEqual([
      { rule: 'closed', customer: { by: 'id', value: 7 }, tags: ['VIP'] },
      { rule: 'big-closed', customer: { by: 'id', value: 7 }, tags: ['Big'] },
    ]);
  });

  it('ignores events from unknown sources and from webhook source names', () => {
    expect(rules.matchEvent({ source: 'other.app', detailType: 'X', detail: {} })).toEqual([]);
    expect(rules.matchEvent({ source: 'crm', detailType: 'X', detail: person })).toEqual([]);
  });

  it('rejects a matching event without detail as missing the customer', () => {
    expect(() => rules.matchEvent({ source: 'legacy.app', detailType: 'X', detail: undefined })).toThrowError(
      'rule "closed": customer.id (helpcrunchId) is missing',
    );
  });
});

describe('eventBridgePatterns', () => {
  it('gives one pattern per EventBridge source, merging detail types so no event is delivered twice', () => {
    const rules = ruleSet([
      { source: 'crm' },
      { source: 'billing.app', detailType: ['Cancelled', 'Expired'] },
      { source: ['billing.app', 'shop.app'], detailType: 'Expired' },
      { source: 'billing.app', detailType: 'Refunded' },
      { source: 'shop.app', detailType: 'Closed' },
      { source: ['crm.app', 'crm'] },
      { source: 'crm.app', detailType: 'Closed' },
    ]);
    expect(rules.eventBridgePatterns()).toEqual([
      { source: 'billing.app', detailType: ['Cancelled', 'Expired', 'Refunded'] },
      { source: 'shop.app', detailType: ['Expired', 'Closed'] },
      { source: 'crm.app' },
    ]);
  });

  it('is empty for webhook-only rules and hands out copies', () => {
    expect(ruleSet([{ source: 'crm' }]).eventBridgePatterns()).toEqual([]);
    const rules = ruleSet([{ source: 'a.app', detailType: 'X' }], {});
    rules.eventBridgePatterns()[0].detailType!.push('Y');
    expect(rules.eventBridgePatterns()).toEqual([{ source: 'a.app', detailType: ['X'] }]);
  });
});
