/** sources.<name>.verify in rules.yml -> VerifyConfig, with problems that name the field; and each vendor's event type. */
import { describe, expect, it } from 'vitest';
import type { VerifyConfig } from '../lib/rules/types';
import { MAX_TOLERANCE_SECONDS } from '../lib/webhook-auth/options';
import { registeredSchemes, schemeOf } from '../lib/webhook-auth/registry';
import { InvalidRulesError, validateRulesConfig } from '../tooling/rules/validate';

/** The verify of source `x`, validated in a config where a rule uses it; its problems. */
function read(raw: unknown): { config: VerifyConfig | undefined; problems: string[] } {
  const rules = {
    sources: { x: { verify: raw } },
    rules: [{ name: 'r', source: 'x', customer: { email: 'e' }, removeTags: ['T'] }],
  };
  try {
    return { config: validateRulesConfig(rules).sources.x!.verify, problems: [] };
  } catch (error) {
    if (!(error instanceof InvalidRulesError)) throw error;
    return { config: undefined, problems: error.problems };
  }
}

describe('verify: one line per vendor', () => {
  it.each([
    ['stripe', { scheme: 'stripe', secretId: 'x', toleranceSeconds: 300 }],
    ['calendly', { scheme: 'calendly', secretId: 'x', toleranceSeconds: 180 }],
    ['paddle', { scheme: 'paddle', secretId: 'x', toleranceSeconds: 5 }],
    ['hubspot-v3', { scheme: 'hubspot-v3', secretId: 'x', toleranceSeconds: 300 }],
    ['standard-webhooks', { scheme: 'standard-webhooks', secretId: 'x', toleranceSeconds: 300 }],
    ['helpcrunch', { scheme: 'helpcrunch', secretId: 'x' }],
    ['github', { scheme: 'github', secretId: 'x' }],
    ['shopify', { scheme: 'shopify', secretId: 'x' }],
  ])('%s takes only a secretId, its tolerance defaulting to what the vendor documents', (scheme, expected) => {
    expect(read({ scheme, secretId: 'x' })).toEqual({ config: expected, problems: [] });
  });

  it('takes toleranceSeconds on every timestamped scheme, and publicUrl on hubspot-v3', () => {
    for (const scheme of ['stripe', 'calendly', 'paddle', 'hubspot-v3', 'standard-webhooks']) {
      expect(read({ scheme, secretId: 'x', toleranceSeconds: 60 }).config).toMatchObject({
        scheme,
        toleranceSeconds: 60,
      });
    }
    const hubspot = read({ scheme: 'hubspot-v3', secretId: 'x', publicUrl: 'https://hooks.example.com/crm/hubspot' });
    expect(hubspot).toEqual({
      config: {
        scheme: 'hubspot-v3',
        secretId: 'x',
        toleranceSeconds: 300,
        publicUrl: 'https://hooks.example.com/crm/hubspot',
      },
      problems: [],
    });
  });

  it('reads the generic hmac with its algorithm, and hmac-sha256 as its sha256 alias', () => {
    expect(
      read({ scheme: 'hmac', algorithm: 'sha1', header: 'X-Hub-Signature', prefix: 'sha1=', secretId: 'x' }).config,
    ).toEqual({
      scheme: 'hmac',
      algorithm: 'sha1',
      header: 'X-Hub-Signature',
      prefix: 'sha1=',
      encoding: 'hex',
      secretId: 'x',
    });
    expect(read({ scheme: 'hmac-sha256', header: 'X-Sig', encoding: 'base64', secretId: 'x' }).config).toEqual({
      scheme: 'hmac',
      algorithm: 'sha256',
      header: 'X-Sig',
      encoding: 'base64',
      secretId: 'x',
    });
  });
});

describe('verify: problems name the field', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'toleranceSeconds zero',
      { scheme: 'stripe', secretId: 'x', toleranceSeconds: 0 },
      [`verify.toleranceSeconds: must be a whole number of seconds from 1 to ${MAX_TOLERANCE_SECONDS}`],
    ],
    [
      'toleranceSeconds fractional',
      { scheme: 'paddle', secretId: 'x', toleranceSeconds: 2.5 },
      [`verify.toleranceSeconds: must be a whole number of seconds from 1 to ${MAX_TOLERANCE_SECONDS}`],
    ],
    [
      'toleranceSeconds over the maximum',
      { scheme: 'calendly', secretId: 'x', toleranceSeconds: MAX_TOLERANCE_SECONDS + 1 },
      [`verify.toleranceSeconds: must be a whole number of seconds from 1 to ${MAX_TOLERANCE_SECONDS}`],
    ],
    [
      'toleranceSeconds as text',
      { scheme: 'hubspot-v3', secretId: 'x', toleranceSeconds: '300' },
      [`verify.toleranceSeconds: must be a whole number of seconds from 1 to ${MAX_TOLERANCE_SECONDS}`],
    ],
    [
      'toleranceSeconds on an untimed scheme',
      { scheme: 'github', secretId: 'x', toleranceSeconds: 60 },
      ['verify.toleranceSeconds: not used by scheme github'],
    ],
    [
      'a header on a vendor scheme',
      { scheme: 'shopify', secretId: 'x', header: 'X-Shopify-Hmac-Sha256' },
      ['verify.header: not used by scheme shopify'],
    ],
    [
      'publicUrl on stripe',
      { scheme: 'stripe', secretId: 'x', publicUrl: 'https://a.example' },
      ['verify.publicUrl: not used by scheme stripe'],
    ],
    [
      'publicUrl over http',
      { scheme: 'hubspot-v3', secretId: 'x', publicUrl: 'http://hooks.example.com/h' },
      ['verify.publicUrl: must be the https:// URL HubSpot calls, e.g. https://hooks.example.com/webhooks/hubspot'],
    ],
    [
      'publicUrl that is no URL',
      { scheme: 'hubspot-v3', secretId: 'x', publicUrl: 'hooks.example.com' },
      ['verify.publicUrl: must be the https:// URL HubSpot calls, e.g. https://hooks.example.com/webhooks/hubspot'],
    ],
    [
      'publicUrl with a query',
      { scheme: 'hubspot-v3', secretId: 'x', publicUrl: 'https://hooks.example.com/h?a=1' },
      ["verify.publicUrl: must not carry a query or fragment (the request's own query is appended)"],
    ],
    [
      'hmac without algorithm',
      { scheme: 'hmac', header: 'X-Sig', secretId: 'x' },
      ['verify.algorithm: is required for scheme hmac'],
    ],
    [
      'hmac with an unknown algorithm',
      { scheme: 'hmac', algorithm: 'md5', header: 'X-Sig', secretId: 'x' },
      ['verify.algorithm: must be one of sha1 | sha256 | sha512'],
    ],
    [
      'an algorithm on the sha256 alias',
      { scheme: 'hmac-sha256', algorithm: 'sha1', header: 'X-Sig', secretId: 'x' },
      ['verify.algorithm: not used by scheme hmac-sha256'],
    ],
    [
      'a vendor scheme without secretId',
      { scheme: 'helpcrunch' },
      ['verify.secretId: is required for scheme helpcrunch'],
    ],
  ])('%s', (_, raw, problems) => {
    expect(read(raw)).toEqual({ config: undefined, problems: problems.map((problem) => `sources.x: ${problem}`) });
  });

  // Read from the registry, so that a new scheme needs no change here.
  const names = registeredSchemes().flatMap((scheme) => [scheme.name, ...Object.keys(scheme.aliases ?? {})]);
  const keys = ['scheme', ...new Set(registeredSchemes().flatMap((scheme) => Object.keys(scheme.options.properties)))];

  it('lists every scheme, aliases included, when the scheme is unknown', () => {
    const { problems } = read({ scheme: 'svix', secretId: 'x' });
    expect(problems).toEqual([`sources.x: verify.scheme: must be one of ${names.join(' | ')}`]);
    expect(names).toEqual(expect.arrayContaining(['hmac', 'hmac-sha256', 'stripe', 'standard-webhooks', 'none']));
  });

  it('lists every key some scheme takes for a key no scheme takes and none is near', () => {
    const { problems } = read({ scheme: 'stripe', secretId: 'x', tolerance: 60 });
    expect(problems).toHaveLength(1);
    const listed = /^sources\.x: verify\.tolerance: unknown key \(expected (.*)\)$/
      .exec(problems[0]!)?.[1]
      ?.split(', ');
    expect(listed?.sort()).toEqual([...keys].sort());
    expect(keys).toEqual(expect.arrayContaining(['scheme', 'secretId', 'toleranceSeconds', 'header', 'query']));
  });

  it('does not take a scheme name from the prototype', () => {
    expect(read({ scheme: 'constructor', secretId: 'x' }).problems).toHaveLength(1);
  });
});

describe("each scheme's event type", () => {
  it.each<[VerifyConfig, unknown]>([
    [{ scheme: 'stripe', secretId: 'x', toleranceSeconds: 300 }, { field: 'type' }],
    [{ scheme: 'paddle', secretId: 'x', toleranceSeconds: 5 }, { field: 'event_type' }],
    [{ scheme: 'helpcrunch', secretId: 'x' }, { field: 'event' }],
    [{ scheme: 'calendly', secretId: 'x', toleranceSeconds: 180 }, { field: 'event' }],
    [{ scheme: 'hubspot-v3', secretId: 'x', toleranceSeconds: 300 }, { field: 'subscriptionType' }],
    [{ scheme: 'standard-webhooks', secretId: 'x', toleranceSeconds: 300 }, { field: 'type' }],
    [{ scheme: 'github', secretId: 'x' }, { header: 'X-GitHub-Event' }],
    [{ scheme: 'shopify', secretId: 'x' }, { header: 'X-Shopify-Topic' }],
    [{ scheme: 'hmac', algorithm: 'sha256', header: 'X-Sig', encoding: 'hex', secretId: 'x' }, undefined],
    [{ scheme: 'token', header: 'X-Token', secretId: 'x' }, undefined],
    [{ scheme: 'basic', secretId: 'x' }, undefined],
    [{ scheme: 'none' }, undefined],
  ])('$scheme -> %o', (verify, expected) => {
    expect(schemeOf(verify).event.type).toEqual(expected);
  });
});
