/**
 * What the workers do for a backfill (docs/backfill.md): messages that name their run (and a dry
 * run), the run's counts in the ledger, the marker of a running backfill, and the pacing that keeps
 * live events first (lib/queue/rate-share.ts). Real HTTP to the HelpCrunch sandbox, the ledger on
 * the local DynamoDB, the SQS SDK client mocked (dead letters only).
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RetryBudget } from '../lib/http/retry';
import type { Ledger } from '../lib/ledger';
import type { BackfillActivity } from '../lib/ledger/backfill-activity';
import { RunTally } from '../lib/ledger/run-tally';
import { unitDeduplicationId } from '../lib/queue/fifo-ids';
import { type BackfillTag, jobMessage, parseJobMessage } from '../lib/queue/job-message';
import { createPacedHelpCrunchClient } from '../lib/queue/paced-client';
import { backfillPacer, livePacer } from '../lib/queue/rate-share';
import { sqsApi } from '../lib/queue/sqs-api';
import { TokenBucket } from '../lib/queue/token-bucket';
import { createQueueWorker } from '../lib/queue/worker';
import type { Job } from '../lib/types';
import { type HelpCrunchSandbox, startHelpCrunchSandbox } from '../local/sandbox/helpcrunch-sandbox';
import { sqsRecord } from './support/lambda-events';
import { freshLedger } from './support/ledger';
import { pipelineWith, unitsFor } from './support/pipeline';

const budget = () => RetryBudget.until(Date.now() + 30_000);
const run: BackfillTag = { run: { id: 'run-1', share: 0.5 }, dryRun: false };
const lostDeal = (id: number): Job => ({
  rule: 'deal-lost',
  customer: { by: 'helpcrunchId', value: id },
  removeTags: ['Lead'],
  addTags: [],
});

describe('a backfill’s job messages', () => {
  const [unit] = unitsFor([lostDeal(1001)], { source: 'crm' });

  it('carry the run, and a dry run says so; a live message carries neither', () => {
    const message = jobMessage(unit!, 0, { ...run, dryRun: true });
    expect(message).toMatchObject({ v: 3, run: { id: 'run-1', share: 0.5 }, dryRun: true });
    expect(parseJobMessage(JSON.stringify(message), 0)).toEqual(message);
    const live = jobMessage(unit!);
    expect(live).not.toHaveProperty('run');
    expect(live).not.toHaveProperty('dryRun');
    expect(jobMessage(unit!, 0, run)).not.toHaveProperty('dryRun');
  });

  it.each([
    ['a share above the limit', { id: 'run-1', share: 0.95 }],
    ['a share below it', { id: 'run-1', share: 0.05 }],
    ['an id with other characters', { id: 'run 1/x', share: 0.5 }],
    ['no share', { id: 'run-1' }],
  ])('refuse a run with %s', (_, badRun) => {
    const body = JSON.stringify({ ...jobMessage(unit!), run: badRun });
    expect(() => parseJobMessage(body, 0)).toThrow(/Invalid job message: run must be \{id, share\}/);
  });

  it('refuse dryRun other than true', () => {
    const body = JSON.stringify({ ...jobMessage(unit!), dryRun: false });
    expect(() => parseJobMessage(body, 0)).toThrow('Invalid job message: dryRun must be true when present');
  });

  it('are deduplicated per run and per dry run: a new run of the same rows is sent again, a resumed one is not', () => {
    const live = unitDeduplicationId(unit!);
    const first = unitDeduplicationId(unit!, run);
    expect(new Set([live, first, unitDeduplicationId(unit!, { ...run, dryRun: true })]).size).toBe(3);
    expect(unitDeduplicationId(unit!, { run: { id: 'run-2', share: 0.5 }, dryRun: false })).not.toBe(first);
    expect(unitDeduplicationId(unit!, { ...run })).toBe(first);
  });
});

describe('the ledger’s run counts and backfill marker', () => {
  let ledger: Ledger;
  let now = 1_000_000;
  beforeAll(async () => {
    ledger = await freshLedger({ now: () => now });
  });

  it('adds what each batch settled to the run, from any number of instances, keeping the first failure per reason', async () => {
    expect(await ledger.runs.read('run-a', budget())).toBeUndefined();
    const first = new RunTally();
    first.units = 2;
    first.outcome({ rule: 'deal-lost', status: 'untagged' });
    first.outcome({ rule: 'deal-lost', status: 'skipped', reason: 'tags_absent' });
    first.failure('deal-lost', 'helpcrunch_bad_request', 'HelpCrunch refused the request (first)');
    const second = new RunTally();
    second.units = 1;
    second.outcome({ rule: 'deal-lost', status: 'untagged' });
    second.failure('deal-lost', 'helpcrunch_bad_request', 'HelpCrunch refused the request (second)');
    await Promise.all([ledger.runs.record('run-a', first, budget()), ledger.runs.record('run-a', second, budget())]);

    const progress = await ledger.runs.read('run-a', budget());
    expect(progress?.units).toBe(3);
    expect(progress?.outcomes).toEqual(
      expect.arrayContaining([
        { rule: 'deal-lost', status: 'untagged', count: 2 },
        { rule: 'deal-lost', status: 'skipped', reason: 'tags_absent', count: 1 },
      ]),
    );
    expect(progress?.outcomes).toHaveLength(2);
    expect(progress?.failures).toEqual([
      { rule: 'deal-lost', reason: 'helpcrunch_bad_request', detail: expect.stringMatching(/\((first|second)\)$/) },
    ]);
    expect(await ledger.runs.read('run-b', budget())).toBeUndefined();
  });

  it('marks a backfill running until it runs out; a spell keeps its start while it is refreshed', async () => {
    expect(await ledger.backfill.share(budget())).toBe(0);
    const begun = now;
    expect(await ledger.backfill.announce(0.3, 10_000, budget())).toEqual({ since: begun });
    expect(await ledger.backfill.share(budget())).toBe(0.3);
    now += 9_000;
    expect(await ledger.backfill.announce(0.4, 10_000, budget())).toEqual({ since: begun });
    expect(await ledger.backfill.share(budget())).toBe(0.4);
    now += 10_001;
    expect(await ledger.backfill.share(budget())).toBe(0);
    expect(await ledger.backfill.announce(0.5, 10_000, budget())).toEqual({ since: now });
  });
});

/** A bucket on a clock the test moves, and what its rate is now. */
function clockedBucket(start = 0) {
  let now = start;
  const bucket = new TokenBucket({ ratePerSecond: 10, now: () => now, sleep: async (ms) => void (now += ms) });
  return { bucket, advance: (ms: number) => (now += ms), now: () => now };
}

/** An activity marker in memory, counting reads. */
function fakeActivity(initial = 0) {
  let share = initial;
  const calls = { reads: 0, announced: [] as number[] };
  let since = 0;
  const activity: BackfillActivity = {
    async share() {
      calls.reads++;
      return share;
    },
    async announce(given) {
      calls.announced.push(given);
      share = given;
      return { since };
    },
  };
  return { activity, calls, set: (value: number) => (share = value), startAt: (at: number) => (since = at) };
}

describe('live events first: the two workers’ pace', () => {
  const message = jobMessage(unitsFor([lostDeal(1001)])[0]!);
  const backfillMessage = (share: number) => ({ ...message, run: { id: 'run-1', share } });

  it('the live worker paces at its whole rate until a backfill runs, then at the rest, reading the marker at most every refresh', async () => {
    const { bucket, advance, now } = clockedBucket();
    const { activity, calls, set } = fakeActivity();
    const pacer = livePacer({ bucket, ratePerSecond: 10, activity, refreshMs: 15_000, now });
    await pacer.pace(message, budget());
    expect(bucket.intervalMs()).toBe(100);
    set(0.5);
    advance(14_000);
    await pacer.pace(message, budget());
    expect(calls.reads).toBe(1);
    expect(bucket.intervalMs()).toBe(100);
    advance(1_000);
    await pacer.pace(message, budget());
    expect(calls.reads).toBe(2);
    expect(bucket.intervalMs()).toBe(200);
  });

  it('the backfill worker paces at each message’s share, announces it, and sends nothing until the live worker has read it', async () => {
    const { bucket, now } = clockedBucket(100_000);
    const { activity, calls, startAt } = fakeActivity();
    startAt(100_000);
    const pacer = backfillPacer({ bucket, ratePerSecond: 10, activity, refreshMs: 15_000, now });
    await pacer.pace(backfillMessage(0.25), budget());
    expect(bucket.intervalMs()).toBe(400);
    expect(calls.announced).toEqual([0.25]);
    expect(bucket.heldForMs()).toBe(15_000);
    // Within a refresh, nothing is announced again.
    await pacer.pace(backfillMessage(0.25), budget());
    expect(calls.announced).toEqual([0.25]);
    await bucket.take();
    expect(now()).toBe(115_000);
    // After one, the marker is refreshed; the spell goes on, so nothing is held.
    await pacer.pace(backfillMessage(0.25), budget());
    expect(calls.announced).toEqual([0.25, 0.25]);
    expect(bucket.heldForMs()).toBe(0);
    // Another share is announced at once.
    await pacer.pace(backfillMessage(0.5), budget());
    expect(calls.announced).toEqual([0.25, 0.25, 0.5]);
    expect(bucket.intervalMs()).toBe(200);
  });

  it('a spell of activity already under way holds nothing', async () => {
    const { bucket, now } = clockedBucket(500_000);
    const { activity, startAt } = fakeActivity();
    startAt(400_000);
    await backfillPacer({ bucket, ratePerSecond: 10, activity, refreshMs: 15_000, now }).pace(
      backfillMessage(0.5),
      budget(),
    );
    expect(bucket.heldForMs()).toBe(0);
  });

  it('tokens earned stay when the rate changes', async () => {
    const { bucket, advance, now } = clockedBucket();
    await bucket.take();
    advance(50);
    bucket.setRate(5);
    await bucket.take();
    // Half a token at 10/s, the other half at 5/s: 50 ms + 100 ms.
    expect(now()).toBe(150);
  });
});

describe('the worker on a backfill’s messages', () => {
  const API_KEY = 'hc-backfill-key';
  const DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs-dlq.fifo';
  const sqsMock = mockClient(SQSClient);
  let sandbox: HelpCrunchSandbox;
  let ledger: Ledger;

  beforeAll(async () => {
    sandbox = await startHelpCrunchSandbox({
      apiKey: API_KEY,
      customers: [1001, 1002, 1003].map((id) => ({
        id,
        email: `c${id}@example.com`,
        userId: null,
        name: null,
        tags: [{ name: 'Lead', color: '#c377e0' }],
      })),
    });
  });
  afterAll(async () => {
    sqsMock.restore();
    await sandbox.close();
  });
  beforeEach(async () => {
    sandbox.reset();
    sqsMock.reset();
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
    ledger = await freshLedger();
  });

  async function worker() {
    const helpcrunch = createPacedHelpCrunchClient({
      baseUrl: sandbox.url,
      apiKey: { get: async () => API_KEY },
      timeoutMs: 2_000,
      bucket: new TokenBucket({ ratePerSecond: 1_000 }),
    });
    return createQueueWorker({
      pipeline: await pipelineWith(helpcrunch, { ledger }),
      sqs: sqsApi(new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 't', secretAccessKey: 't' } })),
      queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/backfill.fifo',
      deadLetterQueueUrl: DLQ_URL,
      maxReceiveCount: 8,
      minJobMs: () => 1_000,
      runs: ledger.runs,
    });
  }

  let id = 0;
  const record = (body: object): SQSRecord =>
    sqsRecord(JSON.stringify(body), { messageId: `m-${++id}`, receiveCount: 1, groupId: `g-${id}` });
  const message = (customerId: number, tag: BackfillTag = run) =>
    jobMessage(unitsFor([lostDeal(customerId)], { source: 'crm' })[0]!, 0, tag);

  it('counts what it settled under the run: changes, skips, and dead letters with their reason', async () => {
    sandbox.script('DELETE /v1/customers/:id/tags', { pass: true }, { error: 'invalidTags' });
    const live = jobMessage(unitsFor([lostDeal(1003)], { source: 'crm' })[0]!);
    const results = await (await worker()).processBatch(
      [record(message(1001)), record(message(1002)), record(message(9999)), record(live)],
      budget(),
    );

    expect(results.map((result) => result.action)).toEqual(['done', 'dead-letter', 'done', 'done']);
    // The live message is counted nowhere: it names no run.
    const progress = await ledger.runs.read('run-1', budget());
    expect(progress?.units).toBe(3);
    expect(progress?.outcomes).toEqual(
      expect.arrayContaining([
        { rule: 'deal-lost', status: 'untagged', count: 1 },
        { rule: 'deal-lost', status: 'failed', reason: 'helpcrunch_bad_request', count: 1 },
        { rule: 'deal-lost', status: 'skipped', reason: 'customer_not_found', count: 1 },
      ]),
    );
    expect(progress?.outcomes).toHaveLength(3);
    expect(progress?.failures).toEqual([
      { rule: 'deal-lost', reason: 'helpcrunch_bad_request', detail: expect.any(String) },
    ]);
  });

  it('runs a dry run’s message dry whatever the function’s own setting: nothing sent, nothing in the ledger', async () => {
    const [unit] = unitsFor([lostDeal(1001)], { source: 'crm' });
    const dry = jobMessage(unit!, 0, { run: { id: 'run-dry', share: 0.5 }, dryRun: true });
    const results = await (await worker()).processBatch([record(dry)], budget());

    expect(results[0]!.outcomes.map((outcome) => outcome.status)).toEqual(['would_untag']);
    expect(sandbox.requests).toEqual([]);
    expect(sandbox.customer(1001)?.tags.map((tag) => tag.name)).toEqual(['Lead']);
    // Nothing recorded as applied: the same unit, run for real, changes the customer.
    const real = await (await worker()).processBatch([record(jobMessage(unit!, 0, run))], budget());
    expect(real[0]!.outcomes.map((outcome) => outcome.status)).toEqual(['untagged']);
    expect((await ledger.runs.read('run-dry', budget()))?.outcomes).toEqual([
      { rule: 'deal-lost', status: 'would_untag', count: 1 },
    ]);
  });
});
