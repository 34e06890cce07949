/**
 * Tags end where the newest event puts them (issue #17's "done when"): events about 24 customers,
 * each won, lost, won, then lost or won, delivered to the deployed shape under 20% 429s and 5% 5xx
 * from HelpCrunch with two worker instances: in order, shuffled, with 15% exact duplicates and
 * signed requests replayed; EventBridge events shuffled, their worker instances replaced halfway;
 * and inline. Every customer ends with its newest event's tags, nothing is lost, no unit is applied
 * twice. Time-scaled: one SQS second is a few milliseconds, HelpCrunch allows 60 requests a second.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RetryBudget } from '../lib/http/retry';
import { freshLedger } from './support/ledger';
import {
  appliedTwice,
  busEvent,
  type DealEvent,
  expectedTags,
  type Harness,
  seeded,
  shuffle,
  signedRequest,
  startHarness,
} from './support/delivery-harness';

const CUSTOMERS = Array.from({ length: 24 }, (_, i) => 7001 + i);
const T0 = Date.UTC(2026, 10, 1);
const FAULTS = { rate429: 0.2, rate5xx: 0.05, retryAfter: 'none' as const };

/** won, lost, won, then lost or won; a minute apart, the customers' events interleaved. */
function dealEvents(random: () => number): DealEvent[] {
  const events: DealEvent[] = [];
  for (let step = 0; step < 4; step++) {
    for (const [index, customer] of CUSTOMERS.entries()) {
      const status = step === 3 ? (random() < 0.5 ? 'lost' : 'won') : step % 2 === 0 ? 'won' : 'lost';
      events.push({ id: `deal-${customer}-${step}`, customer, status, at: T0 + step * 60_000 + index * 1_000 });
    }
  }
  return events;
}

/** Every event once in the order given, 15% of them delivered again at once (a sender's retry). */
function withDuplicates(events: DealEvent[], random: () => number): DealEvent[] {
  return events.flatMap((event) => (random() < 0.15 ? [event, event] : [event]));
}

/** Captured signed requests, replayed later: a tenth of the events. */
const replays = (events: DealEvent[], random: () => number) => events.filter(() => random() < 0.1);

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const budget = () => RetryBudget.until(Date.now() + 30_000);
const tagsOf = (id: number) =>
  harness!.sandbox
    .customer(id)!
    .tags.map((tag) => tag.name)
    .sort();

async function start() {
  harness = await startHarness({
    customers: CUSTOMERS,
    ledger: await freshLedger(),
    faults: FAULTS,
    limitPerSecond: 60,
    msPerSecond: 5,
  });
  return harness;
}

function expectConverged(events: DealEvent[], h: Harness) {
  for (const [customer, tags] of expectedTags(events)) expect([customer, tagsOf(customer)]).toEqual([customer, tags]);
  expect(h.model.messages(h.queueUrl)).toEqual([]);
  expect(h.model.messages(h.deadLetterQueueUrl)).toEqual([]);
  expect(appliedTwice(h.outcomes)).toEqual([]);
}

describe('queue dispatch (the deployed default), two worker instances, HelpCrunch failing a quarter of the time', () => {
  it.each([
    ['in order', (events: DealEvent[]) => events],
    ['shuffled', (events: DealEvent[], random: () => number) => shuffle(events, random)],
  ])(
    'webhooks delivered %s, with duplicates and replays, leave every customer as its newest event says',
    async (_, order) => {
      const random = seeded(17);
      const events = dealEvents(random);
      const h = await start();
      const service = h.service('queue');
      const workers = h.startWorkers(2);
      const deliver = async (list: DealEvent[]) => {
        for (const event of list) {
          expect(await service.handleWebhook(signedRequest(event), budget())).toMatchObject({ dispatch: 'queue' });
        }
      };
      await deliver(withDuplicates(order(events, random), random));
      expect(await workers.whenIdle(90_000)).toBe(true);
      // Replayed after SQS's 5-minute deduplication window (5 ms an SQS second here): only the ledger stops them.
      await new Promise((resolve) => setTimeout(resolve, 5 * 300 + 500));
      const replayed = replays(events, random);
      await deliver(replayed);
      expect(await workers.whenIdle(90_000)).toBe(true);
      await workers.stop();

      expectConverged(events, h);
      // The faults were on; every replay was recognised as the duplicate it is.
      expect(h.sandbox.stats().byStatus[429] ?? 0).toBeGreaterThan(0);
      const duplicates = new Set(h.outcomes.filter((o) => o.reason === 'duplicate_event').map((o) => o.event.id));
      expect(replayed.length).toBeGreaterThan(0);
      expect(replayed.filter((event) => !duplicates.has(event.id))).toEqual([]);
    },
    120_000,
  );

  it('EventBridge events ordered by time, shuffled, with their worker instances replaced halfway', async () => {
    const random = seeded(29);
    const events = dealEvents(random);
    const h = await start();
    const service = h.service('queue');
    const sent = [...withDuplicates(shuffle(events, random), random), ...replays(events, random)];
    const half = Math.floor(sent.length / 2);

    let workers = h.startWorkers(2);
    for (const event of sent.slice(0, half)) await service.handleEvent(busEvent(event), budget());
    // The instances go (a deploy, a scale-in): what they held in memory is gone, the ledger stays.
    await workers.stop();
    workers = h.startWorkers(2);
    for (const event of sent.slice(half)) await service.handleEvent(busEvent(event), budget());
    expect(await workers.whenIdle(90_000)).toBe(true);
    await workers.stop();

    expectConverged(events, h);
  }, 120_000);
});

describe('inline dispatch', () => {
  it('shuffled webhooks with duplicates and replays, senders retrying what was answered 503', async () => {
    const random = seeded(41);
    const events = dealEvents(random);
    const h = await start();
    const service = h.service('inline');
    const pending = [...withDuplicates(shuffle(events, random), random), ...replays(events, random)];
    // Four senders at a time, each retrying a delivery until it is answered 2xx, as Stripe does.
    const deliver = async (event: DealEvent) => {
      for (let attempt = 1; ; attempt++) {
        try {
          const result = await service.handleWebhook(signedRequest(event), RetryBudget.until(Date.now() + 3_000));
          if (result.dispatch === 'inline' && !result.failure) {
            h.outcomes.push(...result.outcomes);
            return;
          }
          if (result.dispatch === 'inline') h.outcomes.push(...result.outcomes);
        } catch {
          // A refused delivery is retried the same way.
        }
        if (attempt > 50) throw new Error(`delivery of ${event.id} never succeeded`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const lanes = Array.from({ length: 4 }, async (_, lane) => {
      for (let i = lane; i < pending.length; i += 4) await deliver(pending[i]!);
    });
    await Promise.all(lanes);

    for (const [customer, tags] of expectedTags(events)) expect([customer, tagsOf(customer)]).toEqual([customer, tags]);
    expect(appliedTwice(h.outcomes)).toEqual([]);
  }, 120_000);
});
