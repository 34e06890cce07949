/**
 * What a million events cost, from the measured figures and stated assumptions. Prices are AWS's
 * public list prices for us-east-1 on arm64 (check them before relying on the result); what the
 * benchmark cannot measure on loopback (HelpCrunch's real latency, how often a container is new)
 * is an assumption, printed with the estimate.
 */
import { round } from './stats';

export const PRICES_USD = {
  /** Lambda, arm64, first pricing tier. */
  lambdaPerGbSecond: 0.0000133334,
  lambdaPerRequest: 0.2 / 1e6,
  secretsManagerPerCall: 0.05 / 10_000,
  /** SQS standard queue, beyond the free tier; every 64 KB of a request counts as one. */
  sqsPerRequest: 0.4 / 1e6,
};

export const ASSUMPTIONS = {
  /** One HelpCrunch request from Lambda over a kept-alive TLS connection. */
  helpcrunchRoundTripMs: 150,
  /**
   * The function's own work per event (verify, match, one log line, the EMF flush): ~0.04 ms on
   * loopback with Powertools Logger when last measured; under 0.1 % of the round trip, so no
   * longer measured.
   */
  ownWorkMs: 0.04,
  /** One SQS SendMessage from the webhook function (queue mode). */
  enqueueMs: 15,
  /** Events that land on a new container and pay module init (billed since August 2025). */
  coldStartShare: 0.01,
  /** The million events arrive over a month, keeping this many containers warm on average. */
  warmContainers: 2,
  secondsPerMonth: 30 * 24 * 3600,
  /** SendMessage, ReceiveMessage and DeleteMessage per job, none of them batched (an upper bound). */
  sqsRequestsPerJob: 3,
  /** Messages per worker invocation. */
  workerBatchSize: 10,
};

export interface CostInputs {
  memoryMiB: number;
  /** Median module init of the webhook handler, measured. */
  initMs: number;
  /** Secrets the function reads (API key, signing secrets) and how long it caches them. */
  secrets: number;
  secretTtlSeconds: number;
  /** The worker's pace: serverless.yml's ratePerMinute and workerConcurrency. */
  pacing: { ratePerMinute: number; workerConcurrency: number };
}

export interface ModeCost {
  /** Billed milliseconds per event (Lambda rounds each invocation up to 1 ms). */
  billedMsPerEvent: number;
  lambdaUsd: number;
  secretsManagerUsd: number;
  sqsUsd: number;
  totalUsd: number;
}

export interface CostEstimate {
  perEvents: number;
  assumptions: typeof ASSUMPTIONS;
  prices: typeof PRICES_USD;
  /** Webhook calls HelpCrunch itself; customer named by id (by email adds one round trip). */
  inline: ModeCost;
  /** Webhook enqueues, the worker calls HelpCrunch; no pacing wait (the queue is not backlogged). */
  queue: ModeCost;
  /**
   * While a backlog drains, each worker instance sends one HelpCrunch request per token of its
   * share of the rate and waits for the next inside the invocation: billed time per request.
   */
  pacedRequest: { ratePerMinute: number; workerConcurrency: number; billedSeconds: number; usdPerMillion: number };
}

const EVENTS = 1_000_000;

export function estimateCost(inputs: CostInputs): CostEstimate {
  const gb = inputs.memoryMiB / 1024;
  const gbSecondsUsd = (ms: number) => (ms / 1000) * gb * PRICES_USD.lambdaPerGbSecond;
  const coldStartsUsd = EVENTS * ASSUMPTIONS.coldStartShare * gbSecondsUsd(inputs.initMs);
  const secretsCalls =
    inputs.secrets *
    (ASSUMPTIONS.warmContainers * (ASSUMPTIONS.secondsPerMonth / inputs.secretTtlSeconds) +
      EVENTS * ASSUMPTIONS.coldStartShare);
  const secretsManagerUsd = secretsCalls * PRICES_USD.secretsManagerPerCall;

  const inlineMs = Math.ceil(ASSUMPTIONS.ownWorkMs + ASSUMPTIONS.helpcrunchRoundTripMs);
  const inlineLambda = EVENTS * (gbSecondsUsd(inlineMs) + PRICES_USD.lambdaPerRequest) + coldStartsUsd;

  const webhookMs = Math.ceil(ASSUMPTIONS.ownWorkMs + ASSUMPTIONS.enqueueMs);
  const workerMsPerJob = ASSUMPTIONS.ownWorkMs + ASSUMPTIONS.helpcrunchRoundTripMs;
  const workerInvocations = EVENTS / ASSUMPTIONS.workerBatchSize;
  const queueLambda =
    EVENTS * (gbSecondsUsd(webhookMs) + PRICES_USD.lambdaPerRequest) +
    workerInvocations *
      (gbSecondsUsd(Math.ceil(workerMsPerJob * ASSUMPTIONS.workerBatchSize)) + PRICES_USD.lambdaPerRequest) +
    coldStartsUsd;
  const sqsUsd = EVENTS * ASSUMPTIONS.sqsRequestsPerJob * PRICES_USD.sqsPerRequest;

  // One token per 60 / (ratePerMinute / workerConcurrency) seconds; the request's round trip fits inside it.
  const { pacing } = inputs;
  const pacedSeconds = 60 / (pacing.ratePerMinute / pacing.workerConcurrency);

  const mode = (billedMsPerEvent: number, lambdaUsd: number, sqs: number): ModeCost => ({
    billedMsPerEvent,
    lambdaUsd: round(lambdaUsd),
    secretsManagerUsd: round(secretsManagerUsd),
    sqsUsd: round(sqs),
    totalUsd: round(lambdaUsd + secretsManagerUsd + sqs),
  });
  return {
    perEvents: EVENTS,
    assumptions: ASSUMPTIONS,
    prices: PRICES_USD,
    inline: mode(inlineMs, inlineLambda, 0),
    queue: mode(round(webhookMs + workerMsPerJob, 1), queueLambda, sqsUsd),
    pacedRequest: {
      ...pacing,
      billedSeconds: round(pacedSeconds, 3),
      usdPerMillion: round(EVENTS * gbSecondsUsd(pacedSeconds * 1000)),
    },
  };
}
