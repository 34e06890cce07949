/**
 * `npm run backfill` as a command (scripts/backfill.ts): every bad input gets a clear answer and
 * sends nothing, the question is asked before anything is sent, a run that is not in a terminal
 * only plans, and what is sent is the job messages live traffic sends, plus the run (and a dry run's
 * mark). The target is a local SQS (local/sandbox/sqs-endpoint.ts) with the backfill queue as npm
 * start names it; no worker drains it, so the tests read what arrived.
 */
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseJobMessage } from '../lib/queue/job-message';
import { localQueueNames } from '../local/host/serverless-config';
import { type SqsEndpoint, startSqsEndpoint } from '../local/sandbox/sqs-endpoint';
import { BACKFILL_HELP, type BackfillIo, EXIT, runBackfill } from '../scripts/backfill';
import { checkpointPath, readCheckpoint } from '../scripts/backfill/checkpoint';
import { closedPortUrl } from './support/closed-port';

const RULES = join(import.meta.dirname, 'fixtures/rules/backfill.yml');
const QUEUE = localQueueNames().backfill;
let sqs: SqsEndpoint;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'backfill-cli-'));
  sqs = await startSqsEndpoint({ queues: [{ name: QUEUE, fifo: true, visibilityTimeoutSeconds: 360 }] });
});
afterAll(async () => {
  await sqs?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  const url = sqs.queueUrl(QUEUE);
  for (let batch = sqs.model.receive(url, 10); batch.length > 0; batch = sqs.model.receive(url, 10))
    for (const message of batch) sqs.model.deleteMessage(url, message.receiptHandle!);
});

const sent = () => sqs.model.messages(sqs.queueUrl(QUEUE));
let files = 0;
function exportFile(name: string, content: string): string {
  const path = join(dir, `${++files}-${name}`);
  writeFileSync(path, content);
  return path;
}
const DEALS =
  'deal_id,status,person.email,lost_time\n1,lost,ada@example.com,2026-04-01\n2,won,grace@example.com,2026-04-02\n';

function cli({ answer, terminal = true }: { answer?: boolean; terminal?: boolean } = {}) {
  const output: string[] = [];
  const questions: string[] = [];
  const io: BackfillIo = {
    write: (text) => void output.push(text),
    interactive: false,
    ...(terminal && {
      confirm: async (question: string) => {
        questions.push(question);
        return answer ?? false;
      },
    }),
    onInterrupt: () => () => undefined,
    sleep: async () => undefined,
    now: () => Date.parse('2026-06-01T00:00:00Z'),
    env: {},
  };
  return { io, output: () => output.join(''), questions };
}

const local = () => ['--local', '--sqs-port', String(sqs.port), '--dynamodb-port', '1'];
const queueUrl = () => ['--queue-url', sqs.queueUrl(QUEUE)];
const run = (args: string[], io = cli().io) => runBackfill(['--rules', RULES, ...args], io);

describe('bad input: a clear answer, and nothing sent', () => {
  it.each([
    ['an unknown source', ['--source', 'crn'], DEALS, 'deals.csv', /Unknown source 'crn' \(did you mean crm\?\)/],
    [
      'a file that is not what its extension says',
      ['--source', 'crm'],
      '{"status":"lost"}\n',
      'deals.csv',
      /deals\.csv holds JSON, not CSV/,
    ],
    ['an empty file', ['--source', 'crm'], '', 'deals.csv', /deals\.csv is empty/],
  ])('%s', async (_, args, content, name, message) => {
    const file = exportFile(name, content);
    const { io, output, questions } = cli({ answer: true });
    expect(await run([...args, '--file', file, ...local()], io)).toBe(EXIT.failed);
    expect(output()).toMatch(message);
    expect(questions).toEqual([]);
    expect(sent()).toEqual([]);
    expect(existsSync(checkpointPath(file))).toBe(false);
  });

  it.each([
    [
      'a CSV with a ragged row',
      'deal_id,status,person.email,lost_time\n1,lost,ada@example.com\n',
      'line 2: has 3 fields, the header has 4',
    ],
    [
      'a row the rules refuse',
      'deal_id,status,person.email,lost_time\n1,lost,,2026-04-01\n',
      'line 2: rule "deal-lost": customer.email (person.email) is missing',
    ],
  ])('%s: the plan says which, and the run stops before the question', async (_, content, reason) => {
    const file = exportFile('deals.csv', `${content}3,lost,alan@example.com,2026-04-03\n`);
    const { io, output, questions } = cli({ answer: true });
    expect(await run(['--source', 'crm', '--file', file, ...local()], io)).toBe(EXIT.failed);
    expect(output()).toContain(reason);
    expect(output()).toContain('Nothing sent: 1 row is refused. Fix it, or pass --skip-invalid to send the others.');
    expect(questions).toEqual([]);
    expect(sent()).toEqual([]);
  });

  it('--skip-invalid sends the rows that are fine', async () => {
    const file = exportFile('deals.csv', `${DEALS}3,lost,,2026-04-03\n4,lost,alan@example.com,2026-04-04\n`);
    expect(await run(['--source', 'crm', '--file', file, '--skip-invalid', '--yes', ...queueUrl()])).toBe(EXIT.ok);
    expect(sent().map((message) => parseJobMessage(message.body, 0).customer)).toEqual([
      { by: 'email', value: 'ada@example.com' },
      { by: 'email', value: 'alan@example.com' },
    ]);
  });

  it.each([
    [['--source', 'crm'], /--file <export> is required/],
    [['--file', 'x.csv'], /--source <name> is required/],
    [
      ['--source', 'crm', '--file', 'x.csv', '--rate-share', '0.95'],
      /--rate-share must be from 0\.1 to 0\.9, got '0\.95'/,
    ],
    [
      ['--source', 'crm', '--file', 'x.csv', '--local', '--stage', 'prod'],
      /Give one target: --local, --stage or --queue-url/,
    ],
    [['--source', 'crm', '--file', 'x.csv', '--format', 'xlsx'], /--format must be csv, jsonl or json, got 'xlsx'/],
    [['--source', 'crm', '--file', 'x.csv', '--ledger-table', 't'], /--ledger-table goes with --queue-url/],
    [
      ['--resume', '--file', 'x.csv', '--source', 'crm'],
      /--resume goes on with the options the run began with; leave out --source/,
    ],
    [['--source', 'crm', '--file', 'x.csv', '--nope'], /Unknown option '--nope'/],
  ])('usage errors exit 2: %j', async (args, message) => {
    const { io, output } = cli();
    expect(await runBackfill(args, io)).toBe(EXIT.usage);
    expect(output()).toMatch(message);
    expect(output()).toContain('See: npm run backfill -- --help');
  });

  it('--resume without a checkpoint says there is nothing to resume', async () => {
    const file = exportFile('deals.csv', DEALS);
    const { io, output } = cli();
    expect(await runBackfill(['--resume', '--file', file], io)).toBe(EXIT.usage);
    expect(output()).toContain(`Nothing to resume: there is no ${checkpointPath(file)} beside the file`);
  });

  it('--local with nothing listening says to start npm start, after the plan', async () => {
    const port = new URL(await closedPortUrl()).port;
    const file = exportFile('deals.csv', DEALS);
    const { io, output } = cli({ answer: true });
    const args = ['--source', 'crm', '--file', file, '--local', '--sqs-port', port, '--dynamodb-port', '1'];
    expect(await run(args, io)).toBe(EXIT.failed);
    expect(output()).toContain(`Nothing answers at http://127.0.0.1:${port}: start \`npm start\` in another terminal`);
  });

  it('a target without a backfill queue says so', async () => {
    const other = await startSqsEndpoint({ queues: [] });
    try {
      const file = exportFile('deals.csv', DEALS);
      const { io, output } = cli({ answer: true });
      const args = ['--source', 'crm', '--file', file, '--local', '--sqs-port', String(other.port)];
      expect(await run(args, io)).toBe(EXIT.failed);
      expect(output()).toContain(
        `Queue '${QUEUE}' does not exist: is \`npm start\` running in queue dispatch (its default)?`,
      );
    } finally {
      await other.close();
    }
  });

  it('a plan with no target stops with the plan; sending needs one', async () => {
    const file = exportFile('deals.csv', DEALS);
    const { io, output } = cli();
    expect(await run(['--source', 'crm', '--file', file, '--plan'], io)).toBe(EXIT.ok);
    expect(output()).toContain('  Jobs                    1 in 1 messages');
    expect(await run(['--source', 'crm', '--file', file], io)).toBe(EXIT.usage);
    expect(output()).toContain('Give a target to send to: --local, --stage <stage> or --queue-url <url> (or --plan)');
  });
});

describe('asking before sending', () => {
  it('asks, and a no sends nothing', async () => {
    const file = exportFile('deals.csv', DEALS);
    const { io, output, questions } = cli({ answer: false });
    expect(await run(['--source', 'crm', '--file', file, ...queueUrl()], io)).toBe(EXIT.ok);
    expect(questions).toEqual([`\nSend 1 messages to ${sqs.queueUrl(QUEUE)}? [y/N] `]);
    expect(output()).toContain('Nothing sent.');
    expect(sent()).toEqual([]);
  });

  it('not in a terminal and without --yes, it only plans', async () => {
    const file = exportFile('deals.csv', DEALS);
    const { io, output } = cli({ terminal: false });
    expect(await run(['--source', 'crm', '--file', file, ...queueUrl()], io)).toBe(EXIT.ok);
    expect(output()).toContain('Planned only: no terminal to ask in. Pass --yes to send.');
    expect(sent()).toEqual([]);
    expect(readCheckpoint(file)).toBeUndefined();
  });
});

describe('what is sent', () => {
  it('the job messages live traffic sends, each in its customer’s group, with the run; a dry run says so', async () => {
    const file = exportFile('deals.csv', DEALS);
    const { io, output } = cli({ answer: true });
    const args = ['--source', 'crm', '--file', file, '--dry-run', '--rate-share', '0.3', ...queueUrl()];
    expect(await run(args, io)).toBe(EXIT.ok);
    expect(output()).toMatch(/Run [\w-]{36} as a dry run \(nothing changes\): sending to/);
    expect(output()).toContain('Sent every row (1 messages). Progress needs the ledger: --ledger-table names it.');
    const checkpoint = readCheckpoint(file)!;
    expect(checkpoint).toMatchObject({ complete: true, lastRow: 2, sentUnits: 1, sentJobs: 1 });
    const [message] = sent();
    expect(message!.groupId).toMatch(/^[0-9a-f]{64}$/);
    expect(parseJobMessage(message!.body, 0)).toEqual({
      v: 3,
      event: { source: 'crm', id: `backfill:${checkpoint.digest}:2`, occurredAt: Date.parse('2026-04-01') },
      customer: { by: 'email', value: 'ada@example.com' },
      jobs: [{ rule: 'deal-lost', removeTags: ['Lead', 'Trial user'], addTags: [] }],
      attempt: 0,
      run: { id: checkpoint.runId, share: 0.3 },
      dryRun: true,
    });
  });

  it('times rows that carry no time by the file, in whole milliseconds as a job message needs', async () => {
    const file = exportFile('people.csv', 'id\n1001\n');
    // A modification time with a fraction of a millisecond, as filesystems keep it.
    utimesSync(file, new Date(), 1_796_620_963.4161234);
    const { io } = cli({ answer: true });
    const args = ['--source', 'hooks', '--event-type', 'deleted.person', '--file', file, ...queueUrl()];
    expect(await run(args, io)).toBe(EXIT.ok);
    const [message] = sent();
    expect(parseJobMessage(message!.body, 0).event.occurredAt).toBe(1_796_620_963_416);
  });

  it('--resume refuses a file that changed since its run began', async () => {
    const file = exportFile('deals.csv', DEALS);
    expect(await run(['--source', 'crm', '--file', file, '--yes', ...queueUrl()])).toBe(EXIT.ok);
    writeFileSync(file, `${DEALS}3,lost,alan@example.com,2026-04-03\n`);
    const { io, output } = cli();
    expect(await runBackfill(['--resume', '--file', file], io)).toBe(EXIT.failed);
    expect(output()).toMatch(/changed since run [\w-]+ began \(its digest differs\)/);
  });

  it('--help says what it does', async () => {
    const { io, output } = cli();
    expect(await runBackfill(['--help'], io)).toBe(EXIT.ok);
    expect(output()).toBe(`${BACKFILL_HELP}\n`);
  });
});
