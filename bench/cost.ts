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
  /** SQS FIFO queue (the jobs queue is FIFO), beyond the free tier; every 64 KB of a request counts as one. */
  sqsPerRequest: 0.5 / 1e6,
  /**
   * DynamoDB on-demand, Standard table class (AWS's DynamoDB pricing page, on-demand capacity):
   * a write request unit writes an item up to 1 KB, a read request unit reads one up to 4 KB
   * strongly consistent (the ledger's reads are). The ledger's items are under 1 KB: one unit each.
   */
  dynamoDbPerWriteUnit: 0.625 / 1e6,
  dynamoDbPerReadUnit: 0.125 / 1e6,
  /** Per GB-month: table storage (the first 25 GB of an account free), and continuous backups (point-in-time recovery). */
  dynamoDbStoragePerGbMonth: 0.25,
  dynamoDbPitrPerGbMonth: 0.2,
};

/** The ledger's operations (lib/ledger: only these, conditional), as DynamoDB bills them. */
const LEDGER_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);
const LEDGER_READS = new Set(['GetItem']);

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
  /** One DynamoDB request from Lambda in-region over a kept-alive TLS connection; the ledger's requests run one after another. */
  dynamoDbRoundTripMs: 8,
  /** Bytes a ledger item is billed for at most (its attributes plus DynamoDB's 100 bytes of overhead): a bound, not measured. */
  ledgerItemBytes: 1024,
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
  /**
   * The ledger's DynamoDB requests by operation, counted: per event inline (customer by id), per
   * job in the queue worker (the queue drain's mix); and how long applied units are kept (dedupDays).
   */
  ledger: { inline: Record<string, number>; queue: Record<string, number>; dedupDays: number };
}

export interface ModeCost {
  /** Billed milliseconds per event (Lambda rounds each invocation up to 1 ms). */
  billedMsPerEvent: number;
  lambdaUsd: number;
  secretsManagerUsd: number;
  sqsUsd: number;
  /** The ledger's requests: write units and read units per event, and what they cost. */
  dynamoDb: { writeUnitsPerEvent: number; readUnitsPerEvent: number; usd: number };
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
  /**
   * Not in the totals: the ledger table's size for a million events a month, at most (a unit item
   * per event for dedupDays, a customer item per event, ledgerItemBytes each), and what storing it
   * and its point-in-time recovery cost a month (storage is free within an account's first 25 GB).
   */
  ledgerStorage: { maxGb: number; storageUsdPerMonth: number; pitrUsdPerMonth: number };
}

const EVENTS = 1_000_000;

/** Request units per event: every ledger operation is a write or a read of an item under 1 KB. */
function requestUnits(requests: Record<string, number>): { writes: number; reads: number } {
  let writes = 0;
  let reads = 0;
  for (const [operation, n] of Object.entries(requests)) {
    if (LEDGER_WRITES.has(operation)) writes += n;
    else if (LEDGER_READS.has(operation)) reads += n;
    else throw new Error(`the ledger made ${operation} requests, which the estimate does not price`);
  }
  return { writes, reads };
}

export function estimateCost(inputs: CostInputs): CostEstimate {
  const gb = inputs.memoryMiB / 1024;
  const gbSecondsUsd = (ms: number) => (ms / 1000) * gb * PRICES_USD.lambdaPerGbSecond;
  const coldStartsUsd = EVENTS * ASSUMPTIONS.coldStartShare * gbSecondsUsd(inputs.initMs);
  const secretsCalls =
    inputs.secrets *
    (ASSUMPTIONS.warmContainers * (ASSUMPTIONS.secondsPerMonth / inputs.secretTtlSeconds) +
      EVENTS * ASSUMPTIONS.coldStartShare);
  const secretsManagerUsd = secretsCalls * PRICES_USD.secretsManagerPerCall;

  const ledger = { inline: requestUnits(inputs.ledger.inline), queue: requestUnits(inputs.ledger.queue) };
  const ledgerMs = ({ writes, reads }: { writes: number; reads: number }) =>
    (writes + reads) * ASSUMPTIONS.dynamoDbRoundTripMs;

  const inlineMs = Math.ceil(ASSUMPTIONS.ownWorkMs + ASSUMPTIONS.helpcrunchRoundTripMs + ledgerMs(ledger.inline));
  const inlineLambda = EVENTS * (gbSecondsUsd(inlineMs) + PRICES_USD.lambdaPerRequest) + coldStartsUsd;

  const webhookMs = Math.ceil(ASSUMPTIONS.ownWorkMs + ASSUMPTIONS.enqueueMs);
  const workerMsPerJob = ASSUMPTIONS.ownWorkMs + ASSUMPTIONS.helpcrunchRoundTripMs + ledgerMs(ledger.queue);
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

  const mode = (
    billedMsPerEvent: number,
    lambdaUsd: number,
    sqs: number,
    units: { writes: number; reads: number },
  ): ModeCost => {
    const dynamoDbUsd =
      EVENTS * (units.writes * PRICES_USD.dynamoDbPerWriteUnit + units.reads * PRICES_USD.dynamoDbPerReadUnit);
    return {
      billedMsPerEvent,
      lambdaUsd: round(lambdaUsd),
      secretsManagerUsd: round(secretsManagerUsd),
      sqsUsd: round(sqs),
      dynamoDb: {
        writeUnitsPerEvent: round(units.writes, 3),
        readUnitsPerEvent: round(units.reads, 3),
        usd: round(dynamoDbUsd),
      },
      totalUsd: round(lambdaUsd + secretsManagerUsd + sqs + dynamoDbUsd),
    };
  };
  const maxGb = (EVENTS * (inputs.ledger.dedupDays / 30 + 1) * ASSUMPTIONS.ledgerItemBytes) / 1024 ** 3;
  return {
    perEvents: EVENTS,
    assumptions: ASSUMPTIONS,
    prices: PRICES_USD,
    inline: mode(inlineMs, inlineLambda, 0, ledger.inline),
    queue: mode(round(webhookMs + workerMsPerJob, 1), queueLambda, sqsUsd, ledger.queue),
    pacedRequest: {
      ...pacing,
      billedSeconds: round(pacedSeconds, 3),
      usdPerMillion: round(EVENTS * gbSecondsUsd(pacedSeconds * 1000)),
    },
    ledgerStorage: {
      maxGb: round(maxGb),
      storageUsdPerMonth: round(maxGb * PRICES_USD.dynamoDbStoragePerGbMonth),
      pitrUsdPerMonth: round(maxGb * PRICES_USD.dynamoDbPitrPerGbMonth),
    },
  };
}
