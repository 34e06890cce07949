/**
 * A planned backfill, sent and watched: its units go to the target queue with SendMessageBatch
 * (lib/queue/enqueue.ts: the same messages live traffic sends, plus the run and, for a dry run,
 * `dryRun`), in file order, a batch at a time; after each batch the checkpoint moves on, and
 * between batches an interruption (Ctrl-C) stops the sending. Meanwhile the run's counts in the
 * ledger (lib/ledger/runs.ts) are polled for the progress, until the workers have settled every
 * message sent.
 *
 * Targets: `--local` is npm start's local stack (its SQS and DynamoDB on their default ports, or
 * --sqs-port / --dynamodb-port); `--stage`/`--region` a deployed stack's backfill queue and ledger,
 * found by name as serverless.yml names them; `--queue-url` any SQS queue (the live jobs queue too:
 * the worker there counts the run and takes no share), with progress when `--ledger-table` names
 * the ledger.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { isLoopback } from '../../lib/http/secure-url';
import { asUntagError } from '../../lib/errors';
import { RetryBudget } from '../../lib/http/retry';
import { createRunLedger, type RunLedger, type RunProgress } from '../../lib/ledger/runs';
import { enqueueUnits } from '../../lib/queue/enqueue';
import type { BackfillTag } from '../../lib/queue/job-message';
import { sqsApi, type SqsApi } from '../../lib/queue/sqs-api';
import type { Unit } from '../../lib/types';
import { localQueueNames, readTableDefinitions } from '../../local/host/serverless-config';
import { type BackfillTarget, type Checkpoint, writeCheckpoint } from './checkpoint';
import type { Plan } from './plan';
import type { ProgressView } from './progress';

export interface ResolvedTarget {
  /** For messages: the queue's name, and where. */
  describe: string;
  queueUrl: string;
  sqs: SqsApi;
  /** The ledger's run counts; undefined when the target gives no ledger (no progress then). */
  runs?: RunLedger;
  /** How the dead letters are redriven, for the end of a run with failures. */
  redriveHint: string;
  close(): void;
}

/** The target cannot be reached or found: the message says what to start or pass. */
export class TargetError extends Error {}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export async function resolveTarget(target: BackfillTarget): Promise<ResolvedTarget> {
  if (target.kind === 'local') {
    const sqsUrl = `http://127.0.0.1:${target.sqsPort}`;
    const client = new SQSClient({
      endpoint: sqsUrl,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    const dynamo = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${target.dynamoDbPort}`,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 2,
    });
    const name = localQueueNames().backfill;
    let queueUrl: string;
    try {
      queueUrl = await queueUrlOf(client, name);
    } catch (error) {
      client.destroy();
      dynamo.destroy();
      throw error instanceof TargetError
        ? new TargetError(`${error.message}: is \`npm start\` running in queue dispatch (its default)?`)
        : new TargetError(
            `Nothing answers at ${sqsUrl}: start \`npm start\` in another terminal (or pass the --sqs-port it uses)`,
          );
    }
    return {
      describe: `${name} on npm start's local SQS (${sqsUrl})`,
      queueUrl,
      sqs: sqsApi(client),
      runs: createRunLedger({ client: dynamo, tableName: readTableDefinitions().LedgerTable!.TableName! }),
      redriveHint: `AWS_ENDPOINT_URL_SQS=${sqsUrl} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local npm run redrive -- --stage local`,
      close() {
        client.destroy();
        dynamo.destroy();
      },
    };
  }
  if (target.kind === 'stack') {
    const { service, stage, region } = target;
    const client = new SQSClient({ region });
    const dynamo = new DynamoDBClient({ region });
    // As serverless.yml names them.
    const name = `${service}-${stage}-backfill.fifo`;
    try {
      const queueUrl = await queueUrlOf(client, name);
      return {
        describe: `${name} (${region})`,
        queueUrl,
        sqs: sqsApi(client),
        runs: createRunLedger({ client: dynamo, tableName: `${service}-${stage}-ledger` }),
        redriveHint: `npm run redrive -- --stage ${stage} --region ${region}`,
        close() {
          client.destroy();
          dynamo.destroy();
        },
      };
    } catch (error) {
      client.destroy();
      dynamo.destroy();
      if (error instanceof TargetError)
        throw new TargetError(
          `${error.message}: is the stack deployed with --stage ${stage} --region ${region}, and with the backfill function (serverless deploy)?`,
        );
      throw new TargetError(`Cannot reach SQS in ${region}: ${(error as Error).name} ${(error as Error).message}`);
    }
  }
  const url = parseQueueUrl(target.queueUrl);
  const region =
    target.region ?? /^sqs\.([a-z0-9-]+)\./.exec(url.hostname)?.[1] ?? process.env.AWS_REGION ?? 'us-east-1';
  // A loopback SQS is a local stand-in, and so is its ledger (AWS_ENDPOINT_URL_DYNAMODB): any
  // credentials do; elsewhere the environment's are used.
  const credentials = isLoopback(url) ? LOCAL_CREDENTIALS : undefined;
  // The queue's own origin as the endpoint: a queue anywhere (another region, a stand-in) is reached where it is.
  const client = new SQSClient({ region, endpoint: url.origin, ...(credentials && { credentials }) });
  const dynamo = target.ledgerTable ? new DynamoDBClient({ region, ...(credentials && { credentials }) }) : undefined;
  return {
    describe: target.queueUrl,
    queueUrl: target.queueUrl,
    sqs: sqsApi(client),
    runs: dynamo && createRunLedger({ client: dynamo, tableName: target.ledgerTable! }),
    redriveHint: 'npm run redrive -- --stage <stage>',
    close() {
      client.destroy();
      dynamo?.destroy();
    },
  };
}

function parseQueueUrl(text: string): URL {
  try {
    const url = new URL(text);
    if (url.protocol === 'https:' || url.protocol === 'http:') return url;
  } catch {
    // Refused below.
  }
  throw new TargetError(
    `--queue-url must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>), got '${text}'`,
  );
}

async function queueUrlOf(client: SQSClient, name: string): Promise<string> {
  let url: string | undefined;
  try {
    ({ QueueUrl: url } = await client.send(new GetQueueUrlCommand({ QueueName: name })));
  } catch (error) {
    if (
      (error as Error).name !== 'QueueDoesNotExist' &&
      (error as Error).name !== 'AWS.SimpleQueueService.NonExistentQueue'
    )
      throw error;
  }
  if (!url) throw new TargetError(`Queue '${name}' does not exist`);
  return url;
}

export interface SendOptions {
  /** Set (Ctrl-C): no batch is started after the one in flight. */
  signal: AbortSignal;
  /** The file the checkpoint goes beside. */
  file: string;
  now?: () => number;
  /** Called after each batch. */
  onSent?: () => void;
}

/** Up to this many units in one SendMessageBatch: SQS's limit. */
const BATCH_UNITS = 10;
const CHECKPOINT_EVERY_MS = 1_000;
const SEND_BUDGET_MS = 60_000;

/**
 * Sends the plan's rows after `checkpoint.lastRow`, moving the checkpoint on as it goes; resolves
 * 'complete' once every row is sent, 'interrupted' when the signal stopped it first. A failure to
 * send (after enqueueUnits' own retries) leaves the checkpoint at the last row sent and is thrown.
 */
export async function sendRows(
  plan: Plan,
  checkpoint: Checkpoint,
  target: ResolvedTarget,
  backfill: BackfillTag,
  { signal, file, now = () => Date.now(), onSent }: SendOptions,
): Promise<'complete' | 'interrupted'> {
  let savedAt = now();
  const save = () => {
    checkpoint.updatedAt = new Date(now()).toISOString();
    writeCheckpoint(file, checkpoint);
    savedAt = now();
  };
  const pending = plan.rows.filter(({ row }) => row > checkpoint.lastRow);
  try {
    for (let start = 0; start < pending.length; ) {
      if (signal.aborted) return 'interrupted';
      const units: Unit[] = [];
      let end = start;
      while (end < pending.length && (units.length === 0 || units.length + pending[end]!.units.length <= BATCH_UNITS))
        units.push(...pending[end++]!.units);
      await enqueueUnits(units, {
        sqs: target.sqs,
        queueUrl: target.queueUrl,
        budget: RetryBudget.until(now() + SEND_BUDGET_MS, now),
        backfill,
      });
      checkpoint.lastRow = pending[end - 1]!.row;
      checkpoint.sentUnits += units.length;
      checkpoint.sentJobs += units.reduce((jobs, unit) => jobs + unit.jobs.length, 0);
      start = end;
      if (now() - savedAt >= CHECKPOINT_EVERY_MS) save();
      onSent?.();
    }
    checkpoint.complete = true;
    return 'complete';
  } catch (error) {
    throw asUntagError(error);
  } finally {
    save();
  }
}

export interface WatchOptions {
  signal: AbortSignal;
  sleep: (ms: number) => Promise<void>;
  pollMs: number;
  /** Called when nothing has been settled for this long, once. */
  stalledAfterMs: number;
  onStalled: () => void;
  /** Called when the ledger first refuses or fails a read (the watching goes on). */
  onReadError: (message: string) => void;
  now?: () => number;
}

/**
 * Polls the run's counts into the view until every message sent is settled (resolves the final
 * counts), or the signal stops the watching (resolves the counts so far). `sending` is the sending
 * still under way, if any: until it ends, more messages may come.
 */
export async function watchRun(
  runs: RunLedger,
  checkpoint: Checkpoint,
  state: () => { rowsSent: number; rowsTotal: number; unitsTotal: number },
  view: ProgressView,
  sending: Promise<unknown> | undefined,
  { signal, sleep, pollMs, stalledAfterMs, onStalled, onReadError, now = () => Date.now() }: WatchOptions,
): Promise<RunProgress | undefined> {
  let sendingDone = sending === undefined;
  void sending?.finally(() => (sendingDone = true)).catch(() => undefined);
  let settled: RunProgress | undefined;
  let lastChange = now();
  let warned = false;
  let readFailed = false;
  for (;;) {
    try {
      const read = await runs.read(checkpoint.runId, { remainingMs: () => 5_000 });
      if ((read?.units ?? 0) !== (settled?.units ?? 0)) lastChange = now();
      settled = read;
    } catch (error) {
      // Said once; the next poll tries again.
      if (!readFailed) onReadError((error as Error).message);
      readFailed = true;
    }
    view.update({ ...state(), unitsSent: checkpoint.sentUnits, settled });
    const done = sendingDone && checkpoint.complete && (settled?.units ?? 0) >= checkpoint.sentUnits;
    if (done || signal.aborted || (sendingDone && !checkpoint.complete)) return settled;
    if (!warned && now() - lastChange >= stalledAfterMs && checkpoint.sentUnits > (settled?.units ?? 0)) {
      warned = true;
      onStalled();
    }
    await sleep(pollMs);
  }
}
