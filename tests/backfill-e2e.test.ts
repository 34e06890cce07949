/**
 * `npm run backfill -- --local` end to end against the local stack as `npm start` runs it (the
 * functions from their bundles, dynalite, the local FIFO SQS with Lambda's pollers, the HelpCrunch
 * sandbox): a 1,000-row CSV of lost deals is planned, sent after the question, interrupted, resumed
 * and run once more, while live webhooks for some of its customers arrive. Time-scaled: HelpCrunch's
 * rate is 240 requests a second here (HELPCRUNCH_RATE_PER_MINUTE, and the sandbox's limit above it),
 * the live worker re-reads the backfill marker every 0.5 s (RATE_SHARE_REFRESH_MS).
 *
 * What holds: the plan sends nothing; the run changes exactly the planned customers, each with one
 * DELETE, however it was interrupted; a live event is applied within the bound while the backfill
 * drains, and a row older than it never undoes it; the same file run again applies nothing.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import type { Outcome } from '../lib/types';
import { startLocalStack, type LocalStack } from '../local/host/local-stack';
import type { SandboxCustomer } from '../local/sandbox/helpcrunch-sandbox';
import { type BackfillIo, EXIT, runBackfill } from '../scripts/backfill';
import { readCheckpoint } from '../scripts/backfill/checkpoint';

const RULES = join(import.meta.dirname, 'fixtures/rules/backfill.yml');
const RATE_PER_MINUTE = 7_200;
const ROWS = 1_000;
/** Every third deal was lost; the others were won or are open, which no rule matches. */
const lost = (i: number) => i % 3 === 0;
const LOST = Math.ceil(ROWS / 3);
const email = (i: number) => `c${i}@example.test`;
const idOf = (i: number) => 100_000 + i;
/** Customers whose deal is reopened live while the backfill runs: before their row is applied, and after. */
const REOPENED_BEFORE = [960, 963, 966, 969, 972];
const REOPENED_AFTER = [0, 3, 6, 9, 12];
/** Reopened live before the backfill starts: a live event's latency without one. */
const BASELINE = 990;
/**
 * A live event is applied within this of what one takes without a backfill, while the backfill
 * drains: which takes at least 11 s by its rate alone (334 messages of a search and a DELETE, at
 * half of 120 requests a second), so a live event queued behind it would take several times this.
 */
const LIVE_BOUND_MS = 4_000;

const TAGS = ['Lead', 'Trial user'];
const customers: SandboxCustomer[] = Array.from({ length: ROWS }, (_, i) => ({
  id: idOf(i),
  email: email(i),
  userId: null,
  name: null,
  tags: TAGS.map((name) => ({ name, color: '#c377e0' })),
}));

let stack: LocalStack;
let dir: string;
let csv: string;
/** When each job of a rule was settled, by customer: from the functions' own log lines. */
const settledAt = new Map<string, { at: number; outcome: Outcome }>();
/** DELETE and PUT requests per customer id. */
const writes = new Map<number, string[]>();
let backfillSent = 0;
let onBackfillSent: ((sent: number) => void) | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'backfill-e2e-'));
  csv = join(dir, 'lost-deals.csv');
  // The export was taken on 2026-04-01; a live event about its customers is newer.
  const rows = Array.from(
    { length: ROWS },
    (_, i) => `${i},${lost(i) ? 'lost' : i % 3 === 1 ? 'won' : 'open'},${email(i)},2026-04-01T00:00:00Z`,
  );
  writeFileSync(csv, `deal_id,status,person.email,lost_time\n${rows.join('\n')}\n`);

  stack = await startLocalStack({
    env: { HELPCRUNCH_RATE_PER_MINUTE: String(RATE_PER_MINUTE), RATE_SHARE_REFRESH_MS: '500' },
    rulesFile: RULES,
    sandbox: { customers, rateLimit: { requests: 300, windowMs: 1_000 }, requestLogSize: 10 },
    write: () => undefined,
    onFunctionOutput(line) {
      const entry = parse(line);
      if (entry?.job)
        settledAt.set(`${entry.job.rule}:${entry.job.customerId}`, { at: Date.now(), outcome: entry.job });
    },
  });
  stack.sandbox!.onRequest(({ method, path }) => {
    const id = Number(/customers\/(\d+)\/tags/.exec(path)?.[1]);
    if (method === 'DELETE' || method === 'PUT') writes.set(id, [...(writes.get(id) ?? []), method]);
  });
  // Counts what reaches the backfill queue (an observer only: the sends go on as they were).
  const { model } = stack.queue!.sqs;
  const send = model.sendMessageBatch.bind(model);
  model.sendMessageBatch = async (input: SendMessageBatchCommandInput) => {
    const result = await send(input);
    if (input.QueueUrl === stack.queue!.backfillQueueUrl) {
      backfillSent += result.Successful?.length ?? 0;
      onBackfillSent?.(backfillSent);
    }
    return result;
  };
}, 60_000);

afterAll(async () => {
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function parse(line: string): { job?: Outcome } | undefined {
  try {
    return JSON.parse(line) as { job?: Outcome };
  } catch {
    return undefined;
  }
}

/** The CLI as a terminal-less run: output collected, the question answered yes, Ctrl-C on demand. */
function cli() {
  const output: string[] = [];
  const questions: string[] = [];
  const listeners = new Set<() => void>();
  const io: BackfillIo = {
    write: (text) => void output.push(text),
    interactive: false,
    confirm: async (question) => {
      questions.push(question);
      return true;
    },
    onInterrupt(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
    now: () => Date.now(),
    env: {},
    pollMs: 100,
  };
  const interrupt = () => {
    for (const listener of listeners) listener();
  };
  return { io, output: () => output.join(''), questions, interrupt };
}

const target = () => [
  '--local',
  '--sqs-port',
  String(stack.queue!.sqs.port),
  '--dynamodb-port',
  String(stack.dynamoDb.port),
];
const backfillArgs = () => [
  '--source',
  'crm',
  '--file',
  csv,
  '--rules',
  RULES,
  '--rate-per-minute',
  String(RATE_PER_MINUTE),
  ...target(),
];

/** A live webhook: the deal reopened on 2026-05-01, after the export; resolves when it was accepted. */
async function reopen(i: number): Promise<number> {
  const body = JSON.stringify({ status: 'reopened', person: { email: email(i) }, lost_time: '2026-05-01T00:00:00Z' });
  const secret = stack.secrets['helpcrunch-untag/crm-webhook']!;
  const sentAt = Date.now();
  const response = await fetch(`${stack.hostUrl}/webhooks/crm`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
    body,
  });
  expect(response.status).toBe(202);
  return sentAt;
}

/** Milliseconds from `sentAt` until the live event's job for customer `i` settled. */
async function latency(i: number, sentAt: number): Promise<number> {
  const key = `deal-reopened:${idOf(i)}`;
  await expect.poll(() => settledAt.get(key), { timeout: 15_000, interval: 20 }).toBeDefined();
  return settledAt.get(key)!.at - sentAt;
}

const tagsOf = (i: number) => stack.sandbox!.customer(idOf(i))!.tags.map((tag) => tag.name);

describe('npm run backfill -- --local: a 1,000-row CSV of lost deals', () => {
  it('plans without sending anything', async () => {
    const { io, output } = cli();
    expect(await runBackfill([...backfillArgs(), '--plan'], io)).toBe(EXIT.ok);
    expect(output()).toContain('  Rows read               1,000');
    expect(output()).toContain('    666 × line 3: ✗ no match  deal-lost');
    expect(output()).toContain(`  Jobs                    ${LOST} in ${LOST} messages`);
    expect(output()).toContain(`  Customer references     ${LOST} distinct`);
    expect(backfillSent).toBe(0);
    expect(writes.size).toBe(0);
  });

  it('asks, sends, stops cleanly on Ctrl-C with the command that resumes, and resumes after the last row sent; live events meanwhile are not delayed and not overwritten', async () => {
    // A live event with no backfill running, for comparison.
    const baseline = await latency(BASELINE, await reopen(BASELINE));

    const first = cli();
    const liveLatencies: Promise<number>[] = [];
    onBackfillSent = (sent) => {
      if (sent >= 10 && liveLatencies.length === 0)
        for (const i of REOPENED_BEFORE) liveLatencies.push(reopen(i).then((sentAt) => latency(i, sentAt)));
      if (sent >= 100) first.interrupt();
    };
    const interrupted = await runBackfill(backfillArgs(), first.io);
    onBackfillSent = undefined;

    expect(first.questions).toEqual([
      `\nSend ${LOST} messages to helpcrunch-untag-local-backfill.fifo on npm start's local SQS (${stack.queue!.sqs.url})? [y/N] `,
    ]);
    expect(interrupted).toBe(EXIT.interrupted);
    expect(first.output()).toContain(`Resume with: npm run backfill -- --resume --file ${csv}`);
    const checkpoint = readCheckpoint(csv)!;
    expect(checkpoint.complete).toBe(false);
    // Stopped after the batch in flight: at most one batch beyond the 100th message.
    expect(checkpoint.sentUnits).toBe(backfillSent);
    expect(backfillSent).toBeGreaterThanOrEqual(100);
    expect(backfillSent).toBeLessThan(120);
    expect(first.output()).toMatch(new RegExp(`Stopped: sent up to line ${checkpoint.lastRow} `));

    // Their rows among the first sent are applied: these deals reopen live now, after them.
    for (const i of REOPENED_AFTER) await expect.poll(() => tagsOf(i), { timeout: 20_000 }).toEqual([]);
    for (const i of REOPENED_AFTER) liveLatencies.push(reopen(i).then((sentAt) => latency(i, sentAt)));

    const second = cli();
    const resumed = runBackfill(['--resume', '--file', csv, '--yes'], second.io);
    expect(await resumed).toBe(EXIT.ok);
    expect(second.questions).toEqual([]);
    expect(second.output()).toContain(`Run ${checkpoint.runId}: sent up to line ${checkpoint.lastRow}`);
    expect(second.output()).toContain('Done: every message settled.');
    // Not a terminal: a plain line every few seconds, from what the workers settled.
    expect(second.output()).toMatch(
      new RegExp(
        `^backfill: rows sent ${LOST}/${LOST}; messages settled \\d+/${LOST}; jobs done \\d+, skipped 0, failed 0;`,
        'm',
      ),
    );
    expect(backfillSent).toBe(LOST);
    expect(readCheckpoint(csv)).toMatchObject({ complete: true, sentUnits: LOST, runId: checkpoint.runId });

    // Live events: within the bound of what one takes without a backfill, while it drained.
    const latencies = await Promise.all(liveLatencies);
    expect(Math.max(...latencies)).toBeLessThan(baseline + LIVE_BOUND_MS);

    // Exactly the planned customers changed, each by one DELETE; nothing applied twice.
    for (let i = 0; i < ROWS; i++) {
      const reopened = [...REOPENED_BEFORE, ...REOPENED_AFTER, BASELINE].includes(i);
      if (!lost(i)) {
        expect(tagsOf(i)).toEqual(TAGS);
        expect(writes.get(idOf(i))).toBeUndefined();
      } else {
        // A row older than a live event never undoes it: the reopened deal keeps its Lead.
        expect(tagsOf(i)).toEqual(reopened ? ['Lead'] : []);
        expect(writes.get(idOf(i))?.filter((method) => method === 'DELETE')).toEqual(['DELETE']);
      }
    }
    for (const i of REOPENED_BEFORE)
      expect(settledAt.get(`deal-lost:${idOf(i)}`)?.outcome).toMatchObject({
        status: 'untagged',
        removed: ['Trial user'],
        reason: 'stale_event',
      });
    // The table per rule and outcome, as the workers counted them.
    expect(second.output()).toMatch(/deal-lost {3}untagged {2,}\d+/);
    expect(second.output()).toMatch(/deal-lost {3}untagged \(stale_event\) +6\n/);
  }, 90_000);

  it('--queue-url: the same messages on the live jobs queue, drained and counted by the worker', async () => {
    const few = join(dir, 'few.csv');
    // Customers whose deals the big export says were won: untouched so far.
    writeFileSync(
      few,
      `deal_id,status,person.email,lost_time\n1,lost,${email(1)},2026-04-01\n4,lost,${email(4)},2026-04-01\n`,
    );
    const jobsQueue = stack.queue!.jobsQueueUrl;
    const sentTo = new Set<string>();
    const { model } = stack.queue!.sqs;
    const send = model.sendMessageBatch;
    model.sendMessageBatch = async (input: SendMessageBatchCommandInput) => {
      sentTo.add(input.QueueUrl!);
      return send(input);
    };
    const previous = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = stack.dynamoDb.url;
    try {
      const { io, output } = cli();
      const args = ['--source', 'crm', '--file', few, '--rules', RULES, '--queue-url', jobsQueue];
      expect(await runBackfill([...args, '--ledger-table', 'helpcrunch-untag-local-ledger', '--yes'], io)).toBe(
        EXIT.ok,
      );
      expect(output()).toMatch(/deal-lost {3}untagged +2\n/);
    } finally {
      model.sendMessageBatch = send;
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
      else process.env.AWS_ENDPOINT_URL_DYNAMODB = previous;
    }
    expect([...sentTo]).toEqual([jobsQueue]);
    expect(tagsOf(1)).toEqual([]);
    expect(tagsOf(4)).toEqual([]);
  }, 30_000);

  it('run again from the start, the same file applies nothing: every row is a duplicate', async () => {
    const writesBefore = [...writes.values()].flat().length;
    const { io, output } = cli();
    expect(await runBackfill([...backfillArgs(), '--yes'], io)).toBe(EXIT.ok);
    expect(output()).toContain('--resume goes on with it, this starts a new run');
    expect(output()).toMatch(new RegExp(`deal-lost {3}skipped \\(duplicate_event\\) +${LOST}\n`));
    expect([...writes.values()].flat().length).toBe(writesBefore);
  }, 60_000);
});
