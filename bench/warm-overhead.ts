/**
 * Part 3, per-event overhead (warm): one container, the HelpCrunch sandbox on loopback. Each
 * event through the webhook handler (signature check, rules, logging, metrics) is timed against a
 * bare axios DELETE of the same customer's tags at the same endpoint, which answers both alike.
 * The two alternate event by event; rounds give the spread.
 */
import { join } from 'node:path';
import axios from 'axios';
import { startContainer, useEnvironment, type Bundle, type Handler } from './containers';
import { lambdaContext, signedWebhookEvent } from './events';
import { SIGNING_SECRET, startLocalServices, type LocalServices } from './local-services';
import { withQuietOutput } from './quiet-output';
import { quantile, spread, type Spread } from './stats';

export interface WarmOverheadOptions {
  rounds: number;
  eventsPerRound: number;
  warmupEvents: number;
  timeoutMs: number;
  workDir: string;
}

export interface Percentiles {
  p50: Spread;
  p99: Spread;
}

export interface WarmOverheadResult {
  rounds: number;
  /** Events per side over all rounds. */
  events: number;
  handlerMs: Percentiles;
  bareAxiosMs: Percentiles;
  /** Per round: handler percentile ÷ bare axios percentile. */
  ratio: Percentiles;
  logBytesPerEvent: number;
}

const CUSTOMER_ID = 1001;
const TAGS = ['VIP', 'Lead'];

async function timed(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

export async function measureWarmOverhead(bundle: Bundle, options: WarmOverheadOptions): Promise<WarmOverheadResult> {
  const services = await startLocalServices();
  try {
    return await measure(bundle, services, options);
  } finally {
    await services.close();
  }
}

async function measure(
  bundle: Bundle,
  services: LocalServices,
  options: WarmOverheadOptions,
): Promise<WarmOverheadResult> {
  const { sandbox } = services;
  useEnvironment(services.env);
  const handler: Handler = await startContainer(bundle, join(options.workDir, 'warm-container'));
  const url = `${sandbox.url}/customers/${CUSTOMER_ID}/tags`;
  const body = { tags: TAGS.map((name) => ({ name })) };

  const viaHandler = async () => {
    const event = signedWebhookEvent({ status: 'closed', helpcrunchId: CUSTOMER_ID }, SIGNING_SECRET);
    const context = lambdaContext('webhook', options.timeoutMs);
    let response: { statusCode: number; body: string } | undefined;
    const elapsed = await timed(async () => {
      response = (await handler(event, context)) as typeof response;
    });
    // Checked after the clock stops: a measurement of failing events would be worthless.
    const status = (JSON.parse(response!.body) as { results?: { status: string }[] }).results?.[0]?.status;
    if (response!.statusCode !== 200 || status !== 'untagged')
      throw new Error(`handler answered ${response!.statusCode} ${response!.body}`);
    return elapsed;
  };
  const viaAxios = async () => {
    let status = 0;
    const elapsed = await timed(async () => {
      ({ status } = await axios.delete(url, { data: body, headers: { Authorization: `Bearer ${sandbox.apiKey}` } }));
    });
    if (status !== 200) throw new Error(`bare axios got ${status}`);
    return elapsed;
  };

  const { value: rounds, outputBytes } = await withQuietOutput(async () => {
    for (let i = 0; i < options.warmupEvents; i++) {
      await viaHandler();
      await viaAxios();
    }
    const perRound: { handler: number[]; bare: number[] }[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const handlerTimes: number[] = [];
      const bareTimes: number[] = [];
      for (let i = 0; i < options.eventsPerRound; i++) {
        // Alternate which side goes first, so neither always follows the other's garbage.
        if (i % 2 === 0) {
          handlerTimes.push(await viaHandler());
          bareTimes.push(await viaAxios());
        } else {
          bareTimes.push(await viaAxios());
          handlerTimes.push(await viaHandler());
        }
      }
      perRound.push({ handler: handlerTimes, bare: bareTimes });
    }
    return perRound;
  });

  const per = (side: 'handler' | 'bare', q: number) => rounds.map((round) => quantile(round[side], q));
  const ratios = (q: number) => per('handler', q).map((value, index) => value / per('bare', q)[index]!);
  const handlerEvents = options.warmupEvents + options.rounds * options.eventsPerRound;
  return {
    rounds: options.rounds,
    events: options.rounds * options.eventsPerRound,
    handlerMs: { p50: spread(per('handler', 0.5)), p99: spread(per('handler', 0.99)) },
    bareAxiosMs: { p50: spread(per('bare', 0.5)), p99: spread(per('bare', 0.99)) },
    ratio: { p50: spread(ratios(0.5)), p99: spread(ratios(0.99)) },
    logBytesPerEvent: Math.round(outputBytes / handlerEvents),
  };
}
