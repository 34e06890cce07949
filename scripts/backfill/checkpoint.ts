/**
 * Where a backfill run stands, beside its input (`<file>.backfill.json`): the run, the file's
 * digest and rules it was planned with, the last row enqueued, and the options to go on with.
 * Written as rows are enqueued (at most once a second, and whenever the run stops), replaced
 * whole (a temporary file renamed over it), so an interrupted or killed run resumes after the
 * last row it is known to have sent; rows sent after that are sent again, and the queue (within
 * 5 minutes) or the ledger drops them.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { isRecord } from '../../lib/json';
import type { ExportFormat } from './read';

/** Where the jobs go: npm start's local stack, a deployed stack's backfill queue, or any SQS queue. */
export type BackfillTarget =
  | { kind: 'local'; sqsPort: number; dynamoDbPort: number }
  | { kind: 'stack'; stage: string; region: string; service: string }
  | { kind: 'queue-url'; queueUrl: string; region?: string; ledgerTable?: string };

/** The options a run was started with: `--resume` goes on with these. */
export interface RunOptions {
  source: string;
  /** --format, or (in a checkpoint) the format the file was read as. */
  format?: ExportFormat;
  rulesFile: string;
  eventType?: string;
  /** ISO 8601, as given. */
  occurredAt?: string;
  rateShare: number;
  ratePerMinute: number;
  dryRun: boolean;
  skipInvalid: boolean;
  target: BackfillTarget;
}

export interface Checkpoint {
  version: 1;
  runId: string;
  /** The export's file name and digest: a resume refuses a file that changed. */
  file: string;
  digest: string;
  /** What the rules file said (tooling/rules/load.ts rulesFingerprint): a resume refuses other rules. */
  rules: string;
  /** The last row sent (0: none yet). */
  lastRow: number;
  /** Units (messages) and jobs sent so far, over every session of the run. */
  sentUnits: number;
  sentJobs: number;
  /** Every row is sent: what is left is the worker's. */
  complete: boolean;
  options: RunOptions;
  startedAt: string;
  updatedAt: string;
}

export const checkpointPath = (file: string): string => `${file}.backfill.json`;

/** The checkpoint beside `file`, or undefined when there is none; a file that is not one is an error. */
export function readCheckpoint(file: string): Checkpoint | undefined {
  const path = checkpointPath(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${basename(path)} cannot be read (${(error as NodeJS.ErrnoException).code})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!isCheckpoint(value))
    throw new Error(`${basename(path)} is not a backfill checkpoint: move it away to start the run anew`);
  return value;
}

function isCheckpoint(value: unknown): value is Checkpoint {
  if (!isRecord(value) || value.version !== 1 || !isRecord(value.options) || !isRecord(value.options.target))
    return false;
  const { runId, file, digest, rules, lastRow, sentUnits, sentJobs, complete } = value;
  return (
    typeof runId === 'string' &&
    typeof file === 'string' &&
    typeof digest === 'string' &&
    typeof rules === 'string' &&
    Number.isSafeInteger(lastRow) &&
    Number.isSafeInteger(sentUnits) &&
    Number.isSafeInteger(sentJobs) &&
    typeof complete === 'boolean' &&
    typeof value.options.source === 'string'
  );
}

/** Replaces the checkpoint beside `file` in one step. */
export function writeCheckpoint(file: string, checkpoint: Checkpoint): void {
  const path = checkpointPath(file);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(checkpoint, null, 2)}\n`);
  renameSync(temporary, path);
}

/** Why `checkpoint` cannot be resumed with this file and rules; undefined when it can. */
export function resumeProblem(
  checkpoint: Checkpoint,
  { digest, rules }: { digest: string; rules: string },
): string | undefined {
  if (checkpoint.digest !== digest)
    return `${checkpoint.file} changed since run ${checkpoint.runId} began (its digest differs): its rows would not be the ones sent. Start a new run without --resume.`;
  if (checkpoint.rules !== rules)
    return `${checkpoint.options.rulesFile} changed since run ${checkpoint.runId} began: finish it with the rules it began with, or start a new run without --resume.`;
  return undefined;
}
