import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/errors';
import { loadRulesFile } from '../tooling/rules/load';
import { InvalidRulesError, validateRulesConfig } from '../tooling/rules/validate';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/rules/${name}`, import.meta.url));
const shippedRules = fileURLToPath(new URL('../rules.yml', import.meta.url));

/** A valid config; each case below breaks one thing in a fresh copy. */
type Raw = { sources: Record<string, any>; rules: Record<string, any>[]; [key: string]: unknown };
function validRaw(): Raw {
  return {
    sources: {
      crm: { verify: { scheme: 'hmac-sha256', header: 'X-Signature', prefix: 'sha256=', secretId: 'crm/webhook' } },
    },
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
        detailType: 'Subscription Cancelled',
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
      customer: { email: 'person.email' },
      removeTags: ['Lead', 'Trial user'],
    });
    expect(config.rules[1].source).toEqual(['billing.app']);
    expect(config.rules[1].detailType).toEqual(['Subscription Cancelled']);
    expect(config.rules[1]).not.toHaveProperty('when');
  });

  it('accepts every verify scheme with exactly its fields', () => {
    const raw = validRaw();
    raw.sources = {
      a: { verify: { scheme: 'hmac-sha256', header: 'X-Sig', encoding: 'base64', secretId: 'a' } },
      b: { verify: { scheme: 'standard-webhooks', secretId: 'b' } },
      c: { verify: { scheme: 'token', header: 'X-Token', secretId: 'arn:aws:secretsmanager:eu-west-1:1:secret:c-AbCdEf' } },
      d: { verify: { scheme: 'basic', secretId: 'd' } },
      e: { verify: { scheme: 'none' } },
    };
    raw.rules[0].source = ['a', 'b', 'c', 'd', 'e'];
    expect(validateRulesConfig(raw).sources).toEqual({
      a: { verify: { scheme: 'hmac', algorithm: 'sha256', header: 'X-Sig', encoding: 'base64', secretId: 'a' } },
      b: { verify: { scheme: 'standard-webhooks', secretId: 'b', toleranceSeconds: 300 } },
      c: { verify: { scheme: 'token', header: 'X-Token', secretId: 'arn:aws:secretsmanager:eu-west-1:1:secret:c-AbCdEf' } },
      d: { verify: { scheme: 'basic', secretId: 'd' } },
      e: { verify: { scheme: 'none' } },
    });
  });

  it('allows an EventBridge-only config without sources', () => {
    const raw: Record<string, unknown> = { rules: [validRaw().rules[1]] };
    expect(validateRulesConfig(raw).sources).toEqual({});
  });

  it('returns lists that later edits of the input do not change', () => {
    const raw = validRaw();
    const config = validateRulesConfig(raw);
    raw.rules[0].removeTags.push('Other');
    expect(config.rules[0].removeTags).toEqual(['Lead', 'Trial user']);
  });
});

describe('validateRulesConfig: each problem names where it is', () => {
  const cases: [string, (raw: Raw) => void, string][] = [
    ['a typo in a rule key', (r) => ((r.rules[0].removetags = ['Lead']), delete r.rules[0].removeTags),
      'rules[0] "deal-lost": removetags: unknown key (did you mean removeTags?)'],
    ['an unknown top-level key', (r) => (r.rule = []), 'top level: rule: unknown key (expected sources, rules)'],
    ['no customer key', (r) => (r.rules[1].customer = {}),
      'rules[1] "churned": customer: exactly one of id | email | userId is required'],
    ['a missing customer', (r) => delete r.rules[1].customer,
      'rules[1] "churned": customer: exactly one of id | email | userId is required'],
    ['two customer keys', (r) => (r.rules[1].customer = { id: 'a', email: 'b' }),
      'rules[1] "churned": customer: exactly one of id | email | userId is required, got id, email'],
    ['a customer key typo', (r) => (r.rules[0].customer = { email: 'a', userid: 'b' }),
      'rules[0] "deal-lost": customer.userid: unknown key (did you mean userId?)'],
    ['a customer that is not a mapping', (r) => (r.rules[0].customer = 'person.email'),
      'rules[0] "deal-lost": customer: must be a mapping: exactly one of id | email | userId is required'],
    ['a customer expression that does not parse', (r) => (r.rules[0].customer = { email: 'person.' }),
      'rules[0] "deal-lost": customer.email: invalid JMESPath'],
    ['an empty customer expression', (r) => (r.rules[0].customer = { id: '' }),
      'rules[0] "deal-lost": customer.id: must be a non-empty JMESPath expression'],
    ['a `when` that does not parse', (r) => (r.rules[0].when = "status = 'lost'"),
      'rules[0] "deal-lost": when: invalid JMESPath'],
    ['a `when` calling an unknown function', (r) => (r.rules[0].when = 'is_lost(status)'),
      'rules[0] "deal-lost": when: invalid JMESPath: Unknown function: is_lost()'],
    ['a `when` calling a function with too many arguments', (r) => (r.rules[0].when = 'length(a, b)'),
      'rules[0] "deal-lost": when: invalid JMESPath: Expected at most 1 argument'],
    ['an empty `when`', (r) => (r.rules[0].when = null),
      'rules[0] "deal-lost": when: must be a non-empty JMESPath expression'],
    ['a duplicate rule name', (r) => (r.rules[1].name = 'deal-lost'), 'rules[1] "deal-lost": name: duplicate of rules[0]'],
    ['a missing name', (r) => delete r.rules[1].name, 'rules[1]: name: is required (a non-empty string)'],
    ['a blank name', (r) => (r.rules[1].name = '  '), 'rules[1] "  ": name: is required (a non-empty string)'],
    ['a name with surrounding spaces', (r) => (r.rules[1].name = 'churned '),
      'rules[1] "churned ": name: has leading or trailing whitespace'],
    ['a missing source', (r) => delete r.rules[1].source, 'rules[1] "churned": source: is required'],
    ['an empty source', (r) => (r.rules[1].source = ''), 'rules[1] "churned": source: must not be empty'],
    ['an empty source list', (r) => (r.rules[1].source = []), 'rules[1] "churned": source: must not be empty'],
    ['a non-string source', (r) => (r.rules[1].source = { name: 'x' }),
      'rules[1] "churned": source: must be a string or a list of strings'],
    ['a duplicate source', (r) => (r.rules[1].source = ['a.app', 'a.app']), 'rules[1] "churned": source[1]: duplicate "a.app"'],
    ['a webhook source in the wrong case', (r) => (r.rules[0].source = 'CRM'),
      'rules[0] "deal-lost": source: "CRM" is not a webhook source (did you mean crm?)'],
    ['no tags', (r) => (r.rules[0].removeTags = []), 'rules[0] "deal-lost": removeTags: must not be empty'],
    ['missing tags', (r) => delete r.rules[0].removeTags, 'rules[0] "deal-lost": removeTags: is required'],
    ['51 tags', (r) => (r.rules[0].removeTags = Array.from({ length: 51 }, (_, i) => `t${i}`)),
      'rules[0] "deal-lost": removeTags: at most 50 entries, got 51'],
    ['a tag with surrounding spaces', (r) => (r.rules[0].removeTags = ['Lead', ' VIP']),
      'rules[0] "deal-lost": removeTags[1]: " VIP" has leading or trailing whitespace'],
    ['a duplicate tag', (r) => (r.rules[0].removeTags = ['Lead', 'Lead']), 'rules[0] "deal-lost": removeTags[1]: duplicate "Lead"'],
    ['an empty tag', (r) => (r.rules[0].removeTags = ['']), 'rules[0] "deal-lost": removeTags[0]: must not be empty'],
    ['a tag YAML read as a number', (r) => (r.rules[0].removeTags = [2024]),
      'rules[0] "deal-lost": removeTags[0]: must be a string (quote it in YAML)'],
    ['tags given as one string', (r) => (r.rules[0].removeTags = 'Lead'),
      'rules[0] "deal-lost": removeTags: must be a list of strings'],
    ['detailType on a webhook rule', (r) => (r.rules[0].detailType = 'Deal Lost'),
      'rules[0] "deal-lost": detailType: only applies to EventBridge sources, but crm is a webhook source'],
    ['detailType on a rule mixing webhook and EventBridge sources',
      (r) => ((r.rules[1].source = ['billing.app', 'crm']), (r.rules[0].source = 'other.app')),
      'rules[1] "churned": detailType: only applies to EventBridge sources, but crm is a webhook source'],
    ['an empty detailType', (r) => (r.rules[1].detailType = []), 'rules[1] "churned": detailType: must not be empty'],
    ['an unknown scheme', (r) => (r.sources.crm.verify.scheme = 'hmac-md5'),
      'sources.crm: verify.scheme: must be one of hmac | hmac-sha256 | stripe | calendly | paddle | hubspot-v3 | helpcrunch | github | shopify | standard-webhooks | token | basic | none'],
    ['a missing verify', (r) => delete r.sources.crm.verify,
      'sources.crm: verify: is required (write `scheme: none` to accept unsigned webhooks)'],
    ['a verify that is not a mapping', (r) => (r.sources.crm.verify = 'none'),
      'sources.crm: verify: must be a mapping with a `scheme`'],
    ['hmac-sha256 without header', (r) => delete r.sources.crm.verify.header,
      'sources.crm: verify.header: is required for scheme hmac-sha256'],
    ['hmac-sha256 without secretId', (r) => delete r.sources.crm.verify.secretId,
      'sources.crm: verify.secretId: is required for scheme hmac-sha256'],
    ['token without header', (r) => (r.sources.crm.verify = { scheme: 'token', secretId: 's' }),
      'sources.crm: verify.header: is required for scheme token'],
    ['basic without secretId', (r) => (r.sources.crm.verify = { scheme: 'basic' }),
      'sources.crm: verify.secretId: is required for scheme basic'],
    ['an unknown encoding', (r) => (r.sources.crm.verify.encoding = 'base32'),
      'sources.crm: verify.encoding: must be one of hex | base64'],
    ['a non-string prefix', (r) => (r.sources.crm.verify.prefix = 1), 'sources.crm: verify.prefix: must be a string'],
    ['a header on standard-webhooks', (r) => (r.sources.crm.verify = { scheme: 'standard-webhooks', header: 'X', secretId: 's' }),
      'sources.crm: verify.header: not used by scheme standard-webhooks'],
    ['a secret on none', (r) => (r.sources.crm.verify = { scheme: 'none', secretId: 's' }),
      'sources.crm: verify.secretId: not used by scheme none'],
    ['a verify key typo', (r) => (r.sources.crm.verify.secretid = 'x'),
      'sources.crm: verify.secretid: unknown key (did you mean secretId?)'],
    ['a header name with a space', (r) => (r.sources.crm.verify.header = 'X Signature'),
      'sources.crm: verify.header: must be an HTTP header name'],
    ['a secretId with a space', (r) => (r.sources.crm.verify.secretId = 'crm webhook'),
      'sources.crm: verify.secretId: must be a Secrets Manager secret name or ARN'],
    ['a source key typo', (r) => (r.sources.crm.verfy = {}), 'sources.crm: verfy: unknown key (expected verify)'],
    ['a source name that is not a path segment',
      (r) => ((r.sources['crm/v2'] = r.sources.crm), delete r.sources.crm, (r.rules[0].source = 'crm/v2')),
      'sources.crm/v2: name must be letters, digits'],
    ['a source that is not a mapping', (r) => (r.sources.crm = 'hmac-sha256'), 'sources.crm: must be a mapping with `verify`'],
    ['sources that are not a mapping', (r) => (r.sources = ['crm'] as never), 'top level: sources: must be a mapping'],
    ['an unused webhook source', (r) => (r.sources.billing = { verify: { scheme: 'none' } }), 'sources.billing: not used by any rule'],
    ['no rules', (r) => (r.rules = []), 'top level: rules: must be a list with at least one rule'],
    ['rules that are not a list', (r) => (r.rules = {} as never), 'top level: rules: must be a list with at least one rule'],
    ['a rule that is not a mapping', (r) => (r.rules[1] = 'churned' as never),
      'rules[1]: must be a mapping with name, source, customer and removeTags'],
  ];

  it.each(cases)('%s', (_, breakIt, expected) => {
    const raw = validRaw();
    breakIt(raw);
    expect(problemsOf(raw)).toContainEqual(expect.stringContaining(expected));
  });

  it('rejects a top level that is not a mapping', () => {
    expect(problemsOf(null)).toEqual(['top level: must be a mapping with `sources` and `rules`']);
    expect(problemsOf([validRaw()])).toEqual(['top level: must be a mapping with `sources` and `rules`']);
  });

  it('collects every problem into one ConfigError with code invalid_rules', () => {
    const raw = validRaw();
    raw.rules[0].removetags = raw.rules[0].removeTags;
    raw.rules[1].customer = {};
    raw.sources.crm.verify.scheme = 'sha256';

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
      'sources.crm: verify.scheme: must be one of hmac | hmac-sha256 | stripe | calendly | paddle | hubspot-v3 | helpcrunch | github | shopify | standard-webhooks | token | basic | none',
      'rules[0] "deal-lost": removetags: unknown key (did you mean removeTags?)',
      'rules[1] "churned": customer: exactly one of id | email | userId is required',
    ]);
    expect(message).toBe(`rules config is invalid (3 problems):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  });

  it('does not report a source as unused when the rule using it has other problems', () => {
    const raw = validRaw();
    raw.rules[0].removeTags = [];
    expect(problemsOf(raw)).toEqual(['rules[0] "deal-lost": removeTags: must not be empty']);
  });
});

describe('loadRulesFile', () => {
  it('loads the shipped rules.yml (an invalid rules.yml fails npm test here)', () => {
    const config = loadRulesFile(shippedRules);
    expect(config.rules.map((rule) => rule.name)).toEqual(['deal-lost', 'subscription-cancelled', 'churned', 'account-closed']);
    expect(Object.keys(config.sources)).toEqual(['crm', 'billing']);
    expect(config.sources.crm.verify).toEqual({
      scheme: 'hmac',
      algorithm: 'sha256',
      header: 'X-Signature',
      prefix: 'sha256=',
      encoding: 'hex',
      secretId: 'helpcrunch-untag/crm-webhook',
    });
  });

  it('names the file, the rules and the fields of an invalid file', () => {
    expect(() => loadRulesFile(fixture('invalid.yml'))).toThrowError(
      [
        'tests/fixtures/rules/invalid.yml is invalid (4 problems):',
        '  - sources.crm: verify.header: is required for scheme hmac-sha256',
        '  - rules[0] "deal-lost": removetags: unknown key (did you mean removeTags?)',
        '  - rules[0] "deal-lost": removeTags: is required',
        '  - rules[1] "churned": customer: exactly one of id | email | userId is required',
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
