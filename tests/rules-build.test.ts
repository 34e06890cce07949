import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type BuildFailure, type Plugin } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { bundledRules } from '../lib/rules/bundled';
import { loadRulesFile, rulesFingerprint } from '../tooling/rules/load';
import { rulesEsbuildPlugin } from '../tooling/rules-esbuild-plugin';
import { rulesVitePlugin } from '../tooling/rules-vite-plugin';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));
const fixture = (name: string) => join(root, 'tests/fixtures/rules', name);
const shippedRules = join(root, 'rules.yml');

/** Both ways the plugin is wired: programmatic, and the CommonJS array serverless-esbuild requires. */
const pluginSetups: [string, () => Plugin[]][] = [
  ['rulesEsbuildPlugin()', () => [rulesEsbuildPlugin()]],
  ['tooling/rules-esbuild-plugins.cjs', () => require('../tooling/rules-esbuild-plugins.cjs')],
];

function bundle(entry: string, plugins: Plugin[]) {
  return build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    plugins,
  });
}

const workDir = mkdtempSync(join(tmpdir(), 'rules-build-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe.each(pluginSetups)('esbuild plugin via %s', (_, plugins) => {
  it('bundles rules.yml as validated JSON, without yaml or the validator', async () => {
    const result = await bundle(fixture('handler-entry.ts'), plugins());
    const code = result.outputFiles[0].text;

    expect(code).toContain('helpcrunch-untag/crm-webhook');
    expect(code).toContain('Subscription Cancelled');
    for (const buildOnly of ['YAMLParseError', 'LineCounter', 'InvalidRulesError', 'validateRulesConfig']) {
      expect(code).not.toContain(buildOnly);
    }

    // The bundle runs on its own and matches with the bundled rules.
    const file = join(workDir, `handler-${Math.random().toString(36).slice(2)}.mjs`);
    writeFileSync(file, code);
    const run = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { handler } from ${JSON.stringify(pathToFileURL(file).href)};
         console.log(JSON.stringify(handler({ source: 'crm.app', detailType: 'Closed', detail: { helpcrunchId: '42' } })));`,
      ],
      { encoding: 'utf8' },
    );
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual([
      { rule: 'account-closed', customer: { by: 'helpcrunchId', value: 42 }, removeTags: ['VIP', 'Lead'], addTags: [] },
    ]);
  });

  it('fails the build with the validation message for an invalid rules file', async () => {
    const failure = (await bundle(fixture('invalid-entry.ts'), plugins()).catch((error) => error)) as BuildFailure;
    expect(failure.errors).toHaveLength(1);
    expect(failure.errors[0].text).toContain('tests/fixtures/rules/invalid.yml is invalid (4 problems):');
    expect(failure.errors[0].text).toContain(
      'rules[1] "churned": customer: exactly one of helpcrunchId | email | userId | lookup (with from) is required',
    );
    expect(failure.errors[0].text).toContain(
      'rules[0] "deal-lost": removetags: unknown key (did you mean removeTags?)',
    );
  });
});

describe('Vite plugin', () => {
  const load = (id: string) => (rulesVitePlugin().load as (id: string) => string | null)(id);

  it('turns a rules file into an ES module exporting the validated config', async () => {
    const code = load(`${shippedRules}?import`)!;
    expect(code.startsWith('export default ')).toBe(true);
    const dataUrl = `data:text/javascript;base64,${Buffer.from(code).toString('base64')}`;
    const { default: config } = await import(/* @vite-ignore */ dataUrl);
    expect(config).toEqual(loadRulesFile(shippedRules));
  });

  it("is wired into vitest.config.ts, so lib/rules/bundled.ts gets the suite's rules, not the project's", () => {
    expect(bundledRules.eventBridgePatterns()).toContainEqual({ source: 'suite.marker', bus: 'default' });
  });

  it('leaves other files to Vite', () => {
    expect(load(join(root, 'lib/rules/match.ts'))).toBeNull();
  });

  it('fails the import of an invalid file with a message naming rule and field', () => {
    expect(() => load(fixture('invalid.yml'))).toThrowError(
      'rules[1] "churned": customer: exactly one of helpcrunchId | email | userId | lookup (with from) is required',
    );
  });
});

describe('serverless variables (tooling/rules-serverless.cjs)', () => {
  const module = require('../tooling/rules-serverless.cjs');
  const resolvers = module.resolversFor(fixture('package.yml'));

  it('writes one EventBridge rule per eventSources entry on its bus, with its invoke permission', () => {
    const resources = resolvers.eventBridgeResources();
    const rules = Object.values(
      resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    ).filter((r) => r.Type === 'AWS::Events::Rule');
    expect(rules.map(({ Properties: { EventBusName, EventPattern } }) => ({ EventBusName, EventPattern }))).toEqual([
      {
        EventBusName: undefined,
        EventPattern: { source: ['billing.app'], 'detail-type': ['Subscription Cancelled', 'Subscription Expired'] },
      },
      { EventBusName: 'crm-events', EventPattern: { source: ['crm.app'] } },
      {
        EventBusName: 'arn:aws:events:eu-west-1:123456789012:event-bus/aws.partner/stripe.com/ed_test',
        EventPattern: {
          source: ['aws.partner/stripe.com/ed_test'],
          'detail-type': ['Subscription Cancelled', 'Subscription Expired'],
        },
      },
    ]);
    expect(Object.keys(resources)).toHaveLength(6);
  });

  it('keeps a source’s logical id when other sources come and go, and never lets two sources share one', () => {
    const ids = Object.keys(resolvers.eventBridgeResources()).filter((id) => !id.endsWith('Permission'));
    const suiteIds = Object.keys(module.resolversFor(fixture('suite.yml')).eventBridgeResources());
    expect(suiteIds).toContain(ids[0]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^[A-Za-z0-9]{1,255}$/.test(id))).toBe(true);
  });

  it('grants secrets by name, partial ARN or complete ARN, as Secrets Manager reads them', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/helpcrunch-key';
    expect(module.secretArn('prod/helpcrunch-key')).toEqual({
      'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:prod/helpcrunch-key-??????`,
    });
    // Partial: without the "-" and 6 random characters Secrets Manager appends.
    expect(module.secretArn(arn)).toBe(`${arn}-??????`);
    expect(module.secretArn(`${arn}-a1B2c3`)).toBe(`${arn}-a1B2c3`);
    // A name ending in "-" + 6 characters reads as a complete ARN, to Secrets Manager too.
    expect(module.secretArn(`${arn}-ending`)).toBe(`${arn}-ending`);
  });

  it('lists the signing secrets, the API key and the lookup secrets as IAM resources', async () => {
    const secretArn = (name: string) => ({
      'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${name}-??????`,
    });
    const resolveVariable = async (variable: string) =>
      variable === 'self:custom.deployParams.apiKeySecretId' ? 'prod/helpcrunch-key' : undefined;

    expect(resolvers.signingSecretIds()).toEqual([
      'helpcrunch-untag/billing-webhook',
      'helpcrunch-untag/crm-webhook',
      'helpcrunch-untag/stripe-webhook',
    ]);
    expect(resolvers.signingSecretArns()).toEqual(
      ['helpcrunch-untag/billing-webhook', 'helpcrunch-untag/crm-webhook', 'helpcrunch-untag/stripe-webhook'].map(
        secretArn,
      ),
    );
    expect(await module.apiKeySecretArns({ resolveVariable })).toEqual([secretArn('prod/helpcrunch-key')]);
    expect(resolvers.lookupSecretArns()).toEqual([secretArn('helpcrunch-untag/stripe-api-key')]);
  });

  it('throws the validation message for an invalid rules file, which fails `serverless package`', async () => {
    const invalid = module.resolversFor(fixture('invalid.yml'));
    expect(() => invalid.eventBridgeResources()).toThrowError('rules[1] "churned": customer: exactly one of');
    expect(() => invalid.signingSecretArns()).toThrowError(
      'sources.crm: verify.header: is required for scheme hmac-sha256',
    );
  });
});

describe('rules-check CLI', () => {
  const runScript = (script: string, ...args: string[]) =>
    spawnSync(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), script, ...args], {
      cwd: root,
      encoding: 'utf8',
    });
  const check = (...args: string[]) => runScript('scripts/rules-check.ts', ...args);

  /** mine.yml, and beside it mine.test.yml written for other rules, in a directory removed after `use`. */
  function withTestsForOtherRules(use: (dir: string) => void): void {
    const dir = mkdtempSync(join(tmpdir(), 'rules-pinned-'));
    try {
      writeFileSync(
        join(dir, 'mine.yml'),
        'sources: {crm: {verify: {scheme: none}}}\nrules: [{name: lost, source: crm, customer: {email: email}, removeTags: [Lead]}]\n',
      );
      writeFileSync(
        join(dir, 'mine.test.yml'),
        'writtenFor: sha256:0123456789abcdef\ncases: [{name: lost, webhook: crm, payload: {}, expect: {status: 400}}]\n',
      );
      use(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('summarises a valid file, with its fingerprint', () => {
    const run = check('tests/fixtures/rules/suite.yml');
    expect(run.stdout).toBe(
      'tests/fixtures/rules/suite.yml OK: 7 rules, 3 webhook sources, 4 EventBridge sources (4 EventBridge rules), 1 lookup; ' +
        `fingerprint ${rulesFingerprint(fixture('suite.yml'))}\n`,
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('checks ./rules.yml by default', () => {
    expect(check().stdout).toMatch(/^rules\.yml OK: /);
  });

  it('prints warnings and still exits 0', () => {
    const run = check('tests/fixtures/rules/warnings.yml');
    expect(run.status).toBe(0);
    expect(run.stderr).toBe(
      [
        'warning: rules[0] "closed": customer.id: is now called helpcrunchId (it must be a HelpCrunch customer id, never the sender’s own id)',
        'warning: lookups.spare: not used by any rule',
        '',
      ].join('\n'),
    );
  });

  it('warns when the rule tests beside the file were written for other rules, and still exits 0', () => {
    withTestsForOtherRules((dir) => {
      const run = check(join(dir, 'mine.yml'));
      expect(run.status).toBe(0);
      expect(run.stderr).toContain(`mine.test.yml was written for other rules (writtenFor: sha256:0123456789abcdef; `);
      expect(run.stderr).toContain(`mine.yml is ${rulesFingerprint(join(dir, 'mine.yml'))}), so its cases are not run`);
    });
  });

  it('npm run test:rules says why it skips rule tests written for other rules, and exits 0', () => {
    withTestsForOtherRules((dir) => {
      const run = runScript('scripts/test-rules.ts', join(dir, 'mine.test.yml'));
      expect(run.status).toBe(0);
      expect(run.stdout).toContain('1 skipped');
      expect(run.stderr).toContain('mine.test.yml was written for other rules (writtenFor: sha256:0123456789abcdef; ');
    });
  }, 60_000);

  it('refuses a tag with a bidirectional override, naming the rule and the tag escaped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-check-'));
    try {
      writeFileSync(
        join(dir, 'bidi.yml'),
        'sources: {crm: {verify: {scheme: none}}}\nrules: [{name: lost, source: crm, customer: {email: email}, removeTags: ["Lead\\u202E"]}]\n',
      );
      const run = check(join(dir, 'bidi.yml'));
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('rules[0] "lost": removeTags[0]: "Lead\\u202e" contains a control character');
      expect(run.stderr).not.toContain('\u202e');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints the problems and exits 1 for an invalid file', () => {
    const run = check('tests/fixtures/rules/invalid.yml');
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('tests/fixtures/rules/invalid.yml is invalid (4 problems):');
    expect(run.stderr).toContain(
      'rules[1] "churned": customer: exactly one of helpcrunchId | email | userId | lookup (with from) is required',
    );
  });
});
