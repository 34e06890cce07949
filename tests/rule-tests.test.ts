/** rules.test.yml: the case format (local/rule-tests/cases.ts) and the runner (runner.ts) on fixture rules. */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidRuleTestsError, loadRuleTests, writtenForOtherRules } from '../local/rule-tests/cases';
import { startRuleTestRunner, type RuleTestRunner } from '../local/rule-tests/runner';
import { rulesFingerprint } from '../tooling/rules/load';

const fixtures = join(import.meta.dirname, 'fixtures/rule-tests');

describe('loadRuleTests', () => {
  it('reads cases with shared customers, header, file payloads and expectations', () => {
    const { cases } = loadRuleTests(join(fixtures, 'rules.test.yml'));
    expect(cases[0]).toEqual({
      name: 'refund',
      trigger: { kind: 'webhook', source: 'shop', headers: { 'X-Shop-Event': 'order.refunded' }, sign: true },
      payload: { customer: { email: 'Ann@Example.com' } },
      customers: [{ id: 1, email: 'ann@example.com', userId: 'u-ann', name: null, tags: ['Buyer', 'VIP'] }],
      expect: { rules: ['order-refunded'], customers: ['ann@example.com'], removed: ['Buyer'], added: [] },
    });
    expect(cases[2]!.trigger).toEqual({ kind: 'eventbridge', source: 'orders.app', detailType: 'Order Cancelled' });
    expect(cases[3]!.trigger).toMatchObject({ sign: false });
  });

  it('names every problem with its case and field', () => {
    let error: unknown;
    try {
      loadRuleTests(join(fixtures, 'invalid.test.yml'));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidRuleTestsError);
    expect((error as InvalidRuleTestsError).problems).toEqual([
      'cases[0] "both": needs exactly one of `webhook: <source>` or `event: {source, detailType}`',
      'cases[1] "both": name: duplicate case name',
      'cases[1] "both": payloadFile: cannot read missing.json as JSON (ENOENT)',
      'cases[1] "both": expect.stauts: unknown key (did you mean status?)',
      'cases[1] "both": expect.customer: give customer or customers, not both',
      'cases[2]: name: is required',
      'cases[2]: expect.status: must be an HTTP status',
    ]);
  });
});

describe('writtenFor: rule tests written for other rules', () => {
  /** A copy of the fixture pair in a directory of its own, the test file pinned to `writtenFor`. */
  function pair(writtenFor: string | undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'rule-tests-'));
    const rulesFile = join(dir, 'rules.yml');
    const testFile = join(dir, 'rules.test.yml');
    copyFileSync(join(fixtures, 'rules.yml'), rulesFile);
    copyFileSync(join(fixtures, 'refund.json'), join(dir, 'refund.json'));
    const cases = readFileSync(join(fixtures, 'rules.test.yml'), 'utf8');
    writeFileSync(testFile, `${writtenFor === undefined ? '' : `writtenFor: ${writtenFor}\n`}${cases}`);
    return { rulesFile, testFile };
  }

  it('fingerprints what the rules say: comments, layout and key order do not count, a changed tag does', () => {
    const { rulesFile } = pair(undefined);
    const before = rulesFingerprint(rulesFile);
    expect(before).toMatch(/^sha256:[0-9a-f]{16}$/);
    const text = readFileSync(rulesFile, 'utf8');
    writeFileSync(
      rulesFile,
      `# my comment\n${text.replace('eventSources:\n  orders.app: {}\n', '')}\neventSources: {orders.app: {}}\n`,
    );
    expect(rulesFingerprint(rulesFile)).toBe(before);
    writeFileSync(rulesFile, text.replace('removeTags: [Buyer]', 'removeTags: [Buyer, VIP]'));
    expect(rulesFingerprint(rulesFile)).not.toBe(before);
  });

  it('runs the cases against the rules they were written for, and a file without writtenFor against any', () => {
    const pinned = pair(rulesFingerprint(join(fixtures, 'rules.yml')));
    expect(loadRuleTests(pinned.testFile).writtenFor).toBe(rulesFingerprint(join(fixtures, 'rules.yml')));
    expect(writtenForOtherRules(loadRuleTests(pinned.testFile), pinned.rulesFile)).toBeUndefined();
    const unpinned = pair(undefined);
    writeFileSync(
      unpinned.rulesFile,
      readFileSync(unpinned.rulesFile, 'utf8').replace('removeTags: [Buyer]', 'removeTags: [VIP]'),
    );
    expect(writtenForOtherRules(loadRuleTests(unpinned.testFile), unpinned.rulesFile)).toBeUndefined();
  });

  it('says why, naming both fingerprints, when the rules are no longer those', () => {
    const { rulesFile, testFile } = pair(rulesFingerprint(join(fixtures, 'rules.yml')));
    writeFileSync(rulesFile, readFileSync(rulesFile, 'utf8').replace('removeTags: [Buyer]', 'removeTags: [VIP]'));
    const reason = writtenForOtherRules(loadRuleTests(testFile), rulesFile);
    expect(reason).toContain(
      `was written for other rules (writtenFor: ${rulesFingerprint(join(fixtures, 'rules.yml'))}; `,
    );
    expect(reason).toContain(
      `is ${rulesFingerprint(rulesFile)}), so its cases are not run: write cases for your rules there and delete its writtenFor line`,
    );
  });

  it('refuses a writtenFor that is not a fingerprint', () => {
    const { testFile } = pair('sha256:23532F0B37E26CA0');
    expect(() => loadRuleTests(testFile)).toThrow(
      'top level: writtenFor: must be a rules fingerprint as `npm run check-rules` prints it (sha256:<16 hex digits>)',
    );
  });
});

describe('startRuleTestRunner', () => {
  let runner: RuleTestRunner;
  beforeAll(async () => {
    runner = await startRuleTestRunner(join(fixtures, 'rules.yml'));
  }, 120_000);
  afterAll(() => runner?.close());
  const cases = () => loadRuleTests(join(fixtures, 'rules.test.yml')).cases;

  it('signs the webhook with the source scheme, reads the event type header, and sees the tags go', async () => {
    const report = await runner.run(cases()[0]!);
    expect(report.actual).toEqual(report.expected);
    expect(report.expected).toEqual({
      status: 200,
      rules: ['order-refunded'],
      customers: [1],
      removed: ['Buyer'],
      added: [],
    });
    expect(report.jobs).toEqual([
      expect.objectContaining({ rule: 'order-refunded', customerId: 1, status: 'untagged' }),
    ]);
    expect(report.refused).toBeUndefined();
  });

  it('reports what happened when it is not what the case expects', async () => {
    const report = await runner.run(cases()[1]!);
    expect(report).toMatchObject({
      expected: { status: 200, removed: ['VIP'] },
      actual: { status: 200, removed: ['Buyer'] },
    });
  });

  it('runs EventBridge cases through the eventbridge function', async () => {
    const report = await runner.run(cases()[2]!);
    expect(report.actual).toEqual({ status: 200, rules: ['order-cancelled'], customers: [1], removed: ['Buyer'] });
  });

  it('sends unsigned when the case says so, and compares status and error code', async () => {
    const report = await runner.run(cases()[3]!);
    expect(report.actual).toEqual({ status: 401, error: 'missing_signature' });
    // The failure message says how the event was refused, whatever the case expects.
    expect(report.refused).toMatch(/^401 missing_signature \S/);
  });

  it('starts each case from its customers again', async () => {
    await runner.run(cases()[0]!);
    expect((await runner.run(cases()[0]!)).actual).toMatchObject({ removed: ['Buyer'] });
  });
});
