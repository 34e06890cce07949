/**
 * `npm run backfill` before anything is sent: reading an export (scripts/backfill/read.ts), planning
 * it against the rules (scripts/backfill/plan.ts) and the checkpoint beside it
 * (scripts/backfill/checkpoint.ts). The rules are the tests' own (tests/fixtures/rules/backfill.yml).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileRules } from '../lib/rules/match';
import {
  type Checkpoint,
  checkpointPath,
  readCheckpoint,
  resumeProblem,
  writeCheckpoint,
} from '../scripts/backfill/checkpoint';
import { MAX_SHOWN, parseOccurredAtOption, PlanError, planBackfill, planText } from '../scripts/backfill/plan';
import { jobTotals, PLAIN_LINE_MS, progressView, resultText } from '../scripts/backfill/progress';
import { type ExportFormat, ExportError, readExport } from '../scripts/backfill/read';
import { loadRulesFile } from '../tooling/rules/load';

const RULES_FILE = join(import.meta.dirname, 'fixtures/rules/backfill.yml');
const STRIPE_EVENT = JSON.parse(
  readFileSync(join(import.meta.dirname, '../examples/stripe-customer-subscription-deleted/payload.json'), 'utf8'),
) as Record<string, unknown>;
const config = loadRulesFile(RULES_FILE);
const rules = compileRules(config);
const NOW = Date.parse('2027-01-01T00:00:00Z');

const dir = mkdtempSync(join(tmpdir(), 'backfill-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function exportFile(name: string, content: string | Buffer): string {
  const path = join(dir, `${++files}-${name}`);
  writeFileSync(path, content);
  return path;
}
const rowsOf = (name: string, content: string | Buffer, format?: ExportFormat) => [
  ...readExport(exportFile(name, content), format).rows(),
];
const readError = (name: string, content: string | Buffer) => {
  try {
    [...readExport(exportFile(name, content)).rows()];
  } catch (error) {
    expect(error).toBeInstanceOf(ExportError);
    return (error as Error).message;
  }
  throw new Error('read without an error');
};

describe('reading an export', () => {
  it('CSV: a row per record, keyed by the header, dotted names nested, numbered by the line it starts on', () => {
    const csv =
      '\uFEFFstatus,person.email,person.name,lost_time\r\nlost,ada@example.com,Ada,2026-04-01\r\n\r\n' +
      'won,grace@example.com,"Grace\r\nHopper",2026-04-02\r\nlost,alan@example.com,Alan,2026-04-03\r\n';
    expect(rowsOf('deals.csv', csv)).toEqual([
      {
        row: 2,
        payload: { status: 'lost', person: { email: 'ada@example.com', name: 'Ada' }, lost_time: '2026-04-01' },
      },
      {
        row: 4,
        payload: {
          status: 'won',
          person: { email: 'grace@example.com', name: 'Grace\nHopper' },
          lost_time: '2026-04-02',
        },
      },
      {
        row: 6,
        payload: { status: 'lost', person: { email: 'alan@example.com', name: 'Alan' }, lost_time: '2026-04-03' },
      },
    ]);
  });

  it('CSV: a ragged row is that row’s problem, the others are read', () => {
    expect(rowsOf('ragged.csv', 'a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n')).toEqual([
      { row: 2, payload: { a: '1', b: '2', c: '3' } },
      { row: 3, problem: 'has 2 fields, the header has 3' },
      { row: 4, problem: 'has 4 fields, the header has 3' },
      { row: 5, payload: { a: '10', b: '11', c: '12' } },
    ]);
  });

  it('CSV: a header named "__proto__" is an own key like any other', () => {
    const [row] = rowsOf('proto.csv', '__proto__,constructor\nx,y\n');
    expect(row).toEqual({ row: 2, payload: { ['__proto__']: 'x', constructor: 'y' } });
    expect(Object.getPrototypeOf((row as { payload: object }).payload)).toBe(Object.prototype);
  });

  it('JSON Lines: a row per line, blank lines skipped, lines that are not an object refused one by one', () => {
    const lines = '{"status":"lost"}\n\n[1,2]\nnot json\n"text"\n{"status":"won"}\n';
    expect(rowsOf('events.jsonl', lines)).toEqual([
      { row: 1, payload: { status: 'lost' } },
      { row: 3, problem: 'is an array, not a JSON object' },
      { row: 4, problem: 'is not JSON' },
      { row: 5, problem: 'is a string, not a JSON object' },
      { row: 6, payload: { status: 'won' } },
    ]);
    expect(rowsOf('events.ndjson', '{"a":1}\n')).toEqual([{ row: 1, payload: { a: 1 } }]);
  });

  it('a JSON array: a row per element, numbered from 1', () => {
    const file = readExport(exportFile('events.json', '[{"a":1}, 2, {"b":2}]'));
    expect(file.rowLabel).toBe('element');
    expect([...file.rows()]).toEqual([
      { row: 1, payload: { a: 1 } },
      { row: 2, problem: 'is a number, not a JSON object' },
      { row: 3, payload: { b: 2 } },
    ]);
  });

  it('--format reads a file whatever its name', () => {
    expect(rowsOf('export.txt', 'a\n1\n', 'csv')).toEqual([{ row: 2, payload: { a: '1' } }]);
  });

  it('the digest is the file’s: the same bytes anywhere, other bytes another', () => {
    const a = readExport(exportFile('a.csv', 'a\n1\n'));
    expect(readExport(exportFile('b.csv', 'a\n1\n')).digest).toBe(a.digest);
    expect(readExport(exportFile('c.csv', 'a\n2\n')).digest).not.toBe(a.digest);
  });

  it.each([
    ['empty.csv', '', /empty\.csv is empty/],
    ['blank.jsonl', '\n  \n', /blank\.jsonl is empty/],
    ['header.csv', 'status,person.email\n', /header\.csv has a header row and no rows/],
    ['none.json', '[]', /none\.json is an empty array/],
    ['object.json', '{"data": []}', /object\.json is a JSON object: a \.json export is an array of objects/],
    ['lines.json', '{"a":1}\n{"a":2}\n', /lines\.json holds one JSON object per line: name it \.jsonl/],
    ['table.json', 'a,b\n1,2\n', /table\.json is not JSON .*: is it CSV\? name it \.csv/],
    [
      'table.jsonl',
      'a,b\n1,2\n',
      /table\.jsonl: line 1 is not JSON, so this is not JSON Lines \(is it CSV\? name it \.csv\)/,
    ],
    ['events.csv', '{"status":"lost"}\n', /events\.csv holds JSON, not CSV: name it \.jsonl .* or \.json/],
    ['quote.csv', 'a,b\n"1,2\n3,4\n', /quote\.csv is not valid CSV: Quote Not Closed/],
    ['twice.csv', 'email,status,email\nx,y,z\n', /twice\.csv: the header names column "email" twice/],
    ['unnamed.csv', 'email,,status\nx,y,z\n', /unnamed\.csv: column 2 of the header has an empty name/],
    ['dots.csv', 'person.,status\nx,y\n', /dots\.csv: column 1 of the header has an empty name/],
    ['nested.csv', 'person,person.email\nx,y\n', /nested\.csv: the header has both "person" and "person\.email"/],
    ['deals.xlsx', 'PK', /deals\.xlsx: cannot tell the format from the name: .*Save the sheet as CSV first/],
    ['deals.txt', 'a\n1\n', /deals\.txt: cannot tell the format from the name: use \.csv, \.jsonl .* or pass --format/],
  ])('refuses %s as a whole', (name, content, message) => {
    expect(readError(name, content)).toMatch(message);
  });

  it('refuses what is not UTF-8 text: a spreadsheet, an archive, UTF-16', () => {
    const zip = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00, 0xff, 0xfe]);
    expect(readError('deals.csv', zip)).toMatch(/deals\.csv is not UTF-8 text/);
    expect(readError('utf16.csv', Buffer.from('\uFEFFa,b\n1,2\n', 'utf16le'))).toMatch(/is not UTF-8 text/);
  });

  it('says when the file is not there', () => {
    expect(() => readExport(join(dir, 'missing.csv'))).toThrow(`${join(dir, 'missing.csv')} does not exist`);
  });
});

/** When the export files of these tests were written, as a plan reads it. */
const FILE_TIME = Date.parse('2026-06-01T00:00:00Z');

const plan = (name: string, content: string, options: Partial<Parameters<typeof planBackfill>[3]> = {}) =>
  planBackfill(readExport(exportFile(name, content)), rules, config, {
    source: 'crm',
    fileTime: FILE_TIME,
    share: 0.5,
    ratePerMinute: 110,
    now: NOW,
    ...options,
  });

describe('planning', () => {
  const deals =
    'deal_id,status,person.email,lost_time\n' +
    '1,lost,ada@example.com,2026-04-01\n' +
    '2,won,grace@example.com,2026-04-02\n' +
    '3,lost,,2026-04-03\n' +
    '4,lost,alan@example.com,yesterday\n' +
    '5,reopened,ADA@example.com,2026-04-05T10:00:00+02:00\n' +
    '6,lost,katherine@example.com,2026-04-06\n' +
    '7,lost,ada@example.com\n';

  it('counts rows read, refused, matching no rule, jobs per rule and tag change, and distinct references', () => {
    const result = plan('deals.csv', deals);
    expect(result).toMatchObject({
      rowsRead: 7,
      invalid: {
        count: 3,
        first: [
          { row: 4, reason: 'rule "deal-lost": customer.email (person.email) is missing' },
          {
            row: 5,
            reason:
              "Source 'crm': occurredAt (field lost_time) is not a time (ISO 8601, or Unix seconds or milliseconds)",
          },
          { row: 8, reason: 'has 3 fields, the header has 4' },
        ],
      },
      unmatched: { count: 1 },
      units: 3,
      jobs: 3,
      // ada@ and ADA@ are one customer reference: emails are taken without case.
      customerReferences: 2,
      // A search and a DELETE or a PUT each.
      requests: 6,
    });
    expect(result.unmatched.reasons).toEqual([
      // Both rules fail at `when`: the first in rules.yml is the nearest.
      {
        key: 'deal-lost: when',
        count: 1,
        row: 3,
        explanation: `  ✗ no match  deal-lost: when status == 'lost' → false (not truthy)`,
      },
    ]);
    expect(Object.fromEntries(result.jobsByRule)).toEqual({ 'deal-lost': 2, 'deal-reopened': 1 });
    expect(Object.fromEntries(result.tagChanges)).toEqual({
      'remove Lead': 2,
      'remove Trial user': 2,
      'add Lead': 1,
    });
    // At 0.5 × 110 requests a minute.
    expect(result.estimatedMs).toBeCloseTo((6 / 55) * 60_000);
  });

  it('gives each row its own time (the source’s occurredAt) and an id stable across runs of the same file', () => {
    const first = plan('deals.csv', deals);
    const again = plan('copy.csv', deals);
    const events = (result: typeof first) => result.rows.flatMap(({ units }) => units.map((unit) => unit.event));
    expect(events(first)).toEqual([
      { source: 'crm', id: `backfill:${first.file.digest}:2`, occurredAt: Date.parse('2026-04-01T00:00:00Z') },
      { source: 'crm', id: `backfill:${first.file.digest}:6`, occurredAt: Date.parse('2026-04-05T08:00:00Z') },
      { source: 'crm', id: `backfill:${first.file.digest}:7`, occurredAt: Date.parse('2026-04-06T00:00:00Z') },
    ]);
    expect(events(again)).toEqual(events(first));
  });

  it('lists the first 20 refused rows and counts the rest', () => {
    const rows = Array.from({ length: 30 }, (_, i) => `${i},lost,,2026-04-01`).join('\n');
    const result = plan('many.csv', `deal_id,status,person.email,lost_time\n${rows}\n`);
    expect(result.invalid.count).toBe(30);
    expect(result.invalid.first).toHaveLength(MAX_SHOWN);
    expect(planText(result, { share: 0.5, ratePerMinute: 110 })).toContain(
      'Rows refused            30 (the first 20:)',
    );
  });

  it('refuses an unknown source, naming the near one and the sources there are', () => {
    expect(() => plan('deals.csv', deals, { source: 'cmr' })).toThrow(
      "Unknown source 'cmr' (did you mean crm?): rules.yml has 'crm', 'hooks', 'stripe', 'billing.app'",
    );
  });

  it('refuses --occurred-at for a source whose rows carry their time', () => {
    expect(() => plan('deals.csv', deals, { occurredAt: NOW })).toThrow(
      "Source 'crm' reads each event's time from its field lost_time: leave --occurred-at out, each row is timed by its own",
    );
  });

  describe('a source whose rows carry no time or type (its occurredAt none, its event type a header)', () => {
    const people = 'id,name\n1001,Ada\n1002,Grace\n';

    it('without --occurred-at, times its rows by the file (never "now", which would beat every live decision so far)', () => {
      const result = plan('people.csv', people, { source: 'hooks', eventType: 'deleted.person' });
      expect(planText(result, { share: 0.5, ratePerMinute: 110 })).toContain(
        "Events timed by         2026-06-01T00:00:00.000Z (the file's modification time: its rows lose to live events after it;",
      );
      expect(result.rows[0]!.units[0]!.event.occurredAt).toBe(FILE_TIME);
    });

    it('times its rows by --occurred-at and types them by --event-type', () => {
      const at = parseOccurredAtOption('2026-05-01T12:00:00Z', 'hooks', NOW);
      const result = plan('people.csv', people, { source: 'hooks', occurredAt: at, eventType: 'deleted.person' });
      expect(result.jobs).toBe(2);
      expect(result.rows[0]!.units[0]!.event).toEqual({
        source: 'hooks',
        id: `backfill:${result.file.digest}:2`,
        occurredAt: at,
      });
      expect(result.requests).toBe(2); // HelpCrunch ids need no search
      expect(planText(result, { share: 0.5, ratePerMinute: 110 })).toContain(
        'Events timed by         2026-05-01T12:00:00.000Z (--occurred-at)',
      );
    });

    it('without --event-type, a rule for one type matches none of them, and the plan says why', () => {
      const at = parseOccurredAtOption('2026-05-01', 'hooks', NOW);
      const result = plan('people.csv', people, { source: 'hooks', occurredAt: at });
      expect(result.jobs).toBe(0);
      expect(result.unmatched.reasons).toEqual([
        expect.objectContaining({
          key: 'person-deleted: eventType',
          count: 2,
          explanation: '  ✗ no match  person-deleted: event type is not one of deleted.person',
        }),
      ]);
    });

    it.each([
      ['next year', '2028-01-01', /is more than an hour in the future/],
      ['before 2000', '1999-12-31', /is before the year 2000/],
      ['not a time', 'last week', /is not a time/],
    ])('refuses an --occurred-at %s', (_, text, message) => {
      expect(() => parseOccurredAtOption(text, 'hooks', NOW)).toThrow(PlanError);
      expect(() => parseOccurredAtOption(text, 'hooks', NOW)).toThrow(message);
    });
  });

  it('Stripe events as JSON Lines: each its own id, type and time; --event-type never overrides a type a row carries', () => {
    const updated = { ...STRIPE_EVENT, id: 'evt_updated', type: 'customer.subscription.updated' };
    const lines = `${JSON.stringify(STRIPE_EVENT)}\n${JSON.stringify(updated)}\n`;
    const result = plan('events.jsonl', lines, { source: 'stripe', eventType: 'customer.subscription.deleted' });
    expect(result.jobs).toBe(1);
    expect(result.rows[0]!.units[0]).toMatchObject({
      event: { source: 'stripe', id: STRIPE_EVENT.id, occurredAt: (STRIPE_EVENT.created as number) * 1000 },
      customer: { by: 'lookup', lookup: 'stripe', value: 'cus_Qh7GraceHopper' },
    });
    expect(result.unmatched.count).toBe(1);
    expect(planText(result, { share: 0.5, ratePerMinute: 110 })).toContain(
      "Events timed by         each row's field created (the source's occurredAt)",
    );
  });

  it('docs/backfill.md’s Pipedrive export: rows typed by --event-type, timed by the column named as the source’s occurredAt', () => {
    const rulesFile = exportFile(
      'pipedrive.yml',
      [
        'lookups:',
        '  pipedrive: { preset: pipedrive-person, secretId: helpcrunch-untag/pipedrive-api-token }',
        'sources:',
        '  pipedrive:',
        '    verify: { scheme: basic, secretId: helpcrunch-untag/pipedrive-webhook }',
        `    eventType: { field: "join('.', [meta.action, meta.entity])" }`,
        '    occurredAt: { field: meta.timestamp }',
        'rules:',
        '  - name: pipedrive-deal-lost',
        '    source: pipedrive',
        '    eventType: change.deal',
        `    when: "data.status == 'lost'"`,
        '    customer: { lookup: pipedrive, from: data.person_id }',
        '    removeTags: [Lead, "Trial user"]',
        '    addTags: [Deal lost]',
        '',
      ].join('\n'),
    );
    const pipedrive = loadRulesFile(rulesFile);
    const csv =
      'data.id,data.status,data.person_id,meta.timestamp\n746,lost,101,2026-05-01T09:00:00Z\n812,lost,233,2026-05-01T09:00:00Z\n';
    const result = planBackfill(readExport(exportFile('lost-deals.csv', csv)), compileRules(pipedrive), pipedrive, {
      source: 'pipedrive',
      fileTime: FILE_TIME,
      eventType: 'change.deal',
      share: 0.5,
      ratePerMinute: 110,
      now: NOW,
    });
    expect(result.invalid.count).toBe(0);
    expect(result.rows.map(({ units }) => units[0])).toEqual([
      expect.objectContaining({
        event: {
          source: 'pipedrive',
          id: `backfill:${result.file.digest}:2`,
          occurredAt: Date.parse('2026-05-01T09:00:00Z'),
        },
        customer: { by: 'lookup', lookup: 'pipedrive', value: '101' },
      }),
      expect.objectContaining({ customer: { by: 'lookup', lookup: 'pipedrive', value: '233' } }),
    ]);
  });

  describe('an EventBridge source', () => {
    const event = (id: string, detailType: string, time = '2026-04-01T00:00:00Z') => ({
      version: '0',
      id,
      'detail-type': detailType,
      source: 'billing.app',
      account: '123456789012',
      time,
      region: 'eu-west-1',
      resources: [],
      detail: { account: { id: `u-${id}` } },
    });

    it('takes whole events with their own id, type and time, and refuses one of another source', () => {
      const lines = [
        event('e1', 'Subscription Cancelled'),
        event('e2', 'Subscription Renewed'),
        { ...event('e3', 'Subscription Cancelled'), source: 'crm.app' },
        { ...event('e4', 'Subscription Cancelled'), time: 'soon' },
      ]
        .map((line) => JSON.stringify(line))
        .join('\n');
      const result = plan('events.jsonl', lines, { source: 'billing.app' });
      expect(result.rows.map(({ units }) => units[0]!.event)).toEqual([
        { source: 'billing.app', id: 'e1', occurredAt: Date.parse('2026-04-01T00:00:00Z') },
      ]);
      expect(result.unmatched.count).toBe(1);
      expect(result.invalid.first).toEqual([
        { row: 3, reason: "is an event of source 'crm.app', not 'billing.app'" },
        {
          row: 4,
          reason:
            "Source 'billing.app': occurredAt (the event's time) is not a time (ISO 8601, or Unix seconds or milliseconds)",
        },
      ]);
    });

    it('takes details alone with --event-type and --occurred-at; without a time it refuses them', () => {
      const details = `${JSON.stringify({ account: { id: 'u-1' } })}\n`;
      expect(() => plan('details.jsonl', details, { source: 'billing.app' })).toThrow(
        /Rows of billing\.app that are an event's detail alone carry no time: pass --occurred-at/,
      );
      const result = plan('details.jsonl', details, {
        source: 'billing.app',
        eventType: 'Subscription Cancelled',
        occurredAt: Date.parse('2026-05-01T00:00:00Z'),
      });
      expect(result.rows[0]!.units[0]).toMatchObject({
        event: { id: `backfill:${result.file.digest}:1` },
        customer: { by: 'userId', value: 'u-1' },
      });
    });
  });

  it('prints each line of the plan', () => {
    const text = planText(plan('deals.csv', deals), { share: 0.5, ratePerMinute: 110 });
    expect(text).toMatch(/^Plan for .*deals\.csv \(CSV, digest [\w-]{22}\), source crm$/m);
    for (const line of [
      '  Rows read               7',
      '  Rows refused            3',
      '    line 4: rule "deal-lost": customer.email (person.email) is missing',
      '  Rows matching no rule   1 (by the nearest rule and why, the first row of each)',
      "    1 × line 3: ✗ no match  deal-lost: when status == 'lost' → false (not truthy)",
      '  Jobs                    3 in 3 messages (a message per row and customer)',
      '    deal-lost             2',
      '    remove Trial user     2',
      '  Customer references     2 distinct',
      "  Events timed by         each row's field lost_time (the source's occurredAt)",
      '  Time                    about 7 s: at most 6 HelpCrunch requests at 55/min (0.5 of 110/min); less where customers are not found or already as the rules say',
    ])
      expect(text).toContain(line);
  });
});

describe('the checkpoint beside the export', () => {
  const checkpoint = (file: string): Checkpoint => ({
    version: 1,
    runId: 'run-1',
    file,
    digest: 'digest-1',
    rules: 'sha256:rules',
    lastRow: 42,
    sentUnits: 40,
    sentJobs: 41,
    complete: false,
    options: {
      source: 'crm',
      format: 'csv',
      rulesFile: RULES_FILE,
      rateShare: 0.5,
      ratePerMinute: 110,
      dryRun: false,
      skipInvalid: false,
      target: { kind: 'local', sqsPort: 4020, dynamoDbPort: 4021 },
    },
    startedAt: '2026-06-01T00:00:00.000Z',
    updatedAt: '2026-06-01T00:00:01.000Z',
  });

  it('is written whole beside the file and read back; none is none', () => {
    const file = exportFile('deals.csv', 'a\n1\n');
    expect(readCheckpoint(file)).toBeUndefined();
    writeCheckpoint(file, checkpoint(file));
    expect(checkpointPath(file)).toBe(`${file}.backfill.json`);
    expect(readCheckpoint(file)).toEqual(checkpoint(file));
  });

  it('refuses a checkpoint file that is not one', () => {
    const file = exportFile('broken.csv', 'a\n1\n');
    writeFileSync(checkpointPath(file), '{"version": 1, "runId": 7}');
    expect(() => readCheckpoint(file)).toThrow(/broken\.csv\.backfill\.json is not a backfill checkpoint/);
  });

  it('resumes only the same file with the same rules', () => {
    const saved = checkpoint('deals.csv');
    expect(resumeProblem(saved, { digest: 'digest-1', rules: 'sha256:rules' })).toBeUndefined();
    expect(resumeProblem(saved, { digest: 'digest-2', rules: 'sha256:rules' })).toMatch(
      /deals\.csv changed since run run-1 began \(its digest differs\)/,
    );
    expect(resumeProblem(saved, { digest: 'digest-1', rules: 'sha256:other' })).toMatch(
      /backfill\.yml changed since run run-1 began/,
    );
  });
});

describe('progress, from what the workers settled', () => {
  const settled = (units: number, done: number, skipped = 0, failed = 0) => ({
    units,
    outcomes: [
      { rule: 'deal-lost', status: 'untagged' as const, count: done },
      ...(skipped > 0
        ? [{ rule: 'deal-lost', status: 'skipped' as const, reason: 'tags_absent', count: skipped }]
        : []),
      ...(failed > 0
        ? [{ rule: 'deal-lost', status: 'failed' as const, reason: 'helpcrunch_bad_request', count: failed }]
        : []),
    ],
    failures:
      failed > 0
        ? [{ rule: 'deal-lost', reason: 'helpcrunch_bad_request', detail: 'HelpCrunch refused the tags' }]
        : [],
  });
  const state = (units: number, done: number) => ({
    rowsSent: 10,
    rowsTotal: 10,
    unitsSent: 10,
    unitsTotal: 10,
    settled: settled(units, done),
  });

  it('not in a terminal: a plain line every few seconds, with the rate and the time left', () => {
    let now = 0;
    const lines: string[] = [];
    const view = progressView({ interactive: false, write: (text) => lines.push(text), now: () => now });
    view.update(state(0, 0));
    now = 3_000;
    view.update(state(3, 3));
    now = PLAIN_LINE_MS;
    view.update(state(5, 5));
    view.stop();
    expect(lines).toEqual([
      'backfill: rows sent 10/10; messages settled 0/10; jobs done 0, skipped 0, failed 0; …; ETA …\n',
      'backfill: rows sent 10/10; messages settled 5/10; jobs done 5, skipped 0, failed 0; 60/min; ETA 5 s\n',
    ]);
  });

  it('in a terminal: a progress bar of messages settled', () => {
    const chunks: string[] = [];
    const stream = Object.assign(new Writable({ write: (chunk, _, done) => done(void chunks.push(String(chunk))) }), {
      isTTY: true,
      columns: 200,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    });
    const view = progressView({ interactive: true, write: () => undefined, stream });
    view.update(state(3, 3));
    view.stop();
    expect(chunks.join('')).toContain('30% | messages 3/10 | rows sent 10/10 | jobs done 3, skipped 0, failed 0');
  });

  it('sums jobs as done, skipped and failed, and ends with a table per rule and outcome and the failures', () => {
    const progress = settled(10, 7, 2, 1);
    expect(jobTotals(progress)).toEqual({ done: 7, skipped: 2, failed: 1 });
    expect(resultText(progress)).toBe(
      [
        '  Rule        Outcome                           Jobs',
        '  deal-lost   untagged                             7',
        '  deal-lost   skipped (tags_absent)                2',
        '  deal-lost   failed (helpcrunch_bad_request)      1',
        '',
        'Failures (one message per rule and reason; the jobs wait in the dead-letter queue):',
        '  deal-lost: helpcrunch_bad_request: HelpCrunch refused the tags',
        '',
      ].join('\n'),
    );
    expect(resultText(undefined)).toBe('No job has been settled yet.\n');
  });
});
