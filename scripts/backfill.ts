/**
 * `npm run backfill`: runs an export (a CSV, JSON Lines or a JSON array of a source's payloads)
 * through the same rules as live events, shows the plan, asks, sends the jobs to the stack's
 * backfill queue (drained at a share of the rate, behind live events) and shows the workers'
 * progress; Ctrl-C stops the sending and prints the command that resumes. See docs/backfill.md.
 *
 *   npm run backfill -- --source crm --file lost-deals.csv --occurred-at 2026-05-01 --local
 *   npm run backfill -- --source stripe --file events.jsonl --stage prod --region eu-west-1
 *   npm run backfill -- --resume --file lost-deals.csv
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../lib/errors';
import type { RunProgress } from '../lib/ledger/runs';
import { compileRules } from '../lib/rules/match';
import type { BackfillTag } from '../lib/queue/job-message';
import { isRateShare, RATE_SHARE_LIMITS } from '../lib/queue/job-message';
import { DEFAULT_RATE_SHARE } from '../lib/queue/rate-share';
import {
  DEFAULT_DYNAMODB_PORT,
  DEFAULT_RULES_FILE,
  DEFAULT_SQS_PORT,
  hostSettings,
  parseUsage,
} from '../local/host/cli';
import { shellQuote } from '../local/host/curl-commands';
import { deployParamDefault } from '../local/host/serverless-config';
import { readSetting, UsageError } from '../local/sandbox/cli-options';
import { loadRulesFile, rulesFingerprint } from '../tooling/rules/load';
import { InvalidRulesError } from '../tooling/rules/validate';
import {
  type BackfillTarget,
  type Checkpoint,
  checkpointPath,
  readCheckpoint,
  resumeProblem,
  type RunOptions,
  writeCheckpoint,
} from './backfill/checkpoint';
import { parseOccurredAtOption, type Plan, PlanError, planBackfill, planText } from './backfill/plan';
import { count, progressView, resultText } from './backfill/progress';
import { EXPORT_FORMATS, ExportError, type ExportFormat, readExport } from './backfill/read';
import { resolveTarget, sendRows, TargetError, watchRun } from './backfill/run';

export const BACKFILL_HELP = `npm run backfill -- --source <name> --file <export> <target> [options]
npm run backfill -- --resume --file <export> [--yes]

Runs an export through rules.yml as live events of <source>, shows the plan, asks, then sends
the jobs to the backfill queue, which the stack drains at a share of HelpCrunch's rate while
live events keep the rest. See docs/backfill.md.

Export (--file): .csv (a header row; dotted names nest: person.email), .jsonl / .ndjson (one
payload or EventBridge event per line) or .json (an array of them).

Target (one of; none needed with --plan):
  --local                 npm start's local stack (its SQS on --sqs-port, default ${DEFAULT_SQS_PORT};
                          its DynamoDB on --dynamodb-port, default ${DEFAULT_DYNAMODB_PORT})
  --stage <stage>         the deployed stack's backfill queue and ledger, as serverless deploy names
                          them (--region, default AWS_REGION or us-east-1; --service, default helpcrunch-untag)
  --queue-url <url>       any SQS queue (the live jobs queue too); progress needs --ledger-table <name>

Options:
  --event-type <type>     the event type of rows that carry none
  --occurred-at <time>    when the export was taken (ISO 8601): the rows' time, for a source whose
                          occurredAt a row does not carry (default: the file's modification time)
  --rules <file>          the rules (default rules.yml)
  --format <csv|jsonl|json>  instead of the file's extension
  --rate-share <share>    the share of HelpCrunch's rate the backfill takes, ${RATE_SHARE_LIMITS.min} to ${RATE_SHARE_LIMITS.max} (default ${DEFAULT_RATE_SHARE})
  --rate-per-minute <n>   the stack's ratePerMinute param, for the plan's time (default serverless.yml's)
  --dry-run               the workers run the jobs dry: outcomes would_untag / would_tag, nothing changes
  --skip-invalid          send the rows that are fine when some are refused (default: send nothing)
  --plan                  print the plan and stop
  --yes, -y               send without asking (a run that is not in a terminal only plans without it)
  --resume                go on with the run the checkpoint beside the file (<file>.backfill.json) describes
  --help`;

export interface BackfillIo {
  write(text: string): void;
  /** Progress as a bar (a terminal) or as a line every few seconds. */
  interactive: boolean;
  /** Asks a yes/no question; undefined when no one can answer (not a terminal). */
  confirm?: (question: string) => Promise<boolean>;
  /** Calls `listener` on each Ctrl-C; returns a function that stops listening. */
  onInterrupt(listener: () => void): () => void;
  sleep(ms: number): Promise<void>;
  now(): number;
  env: NodeJS.ProcessEnv;
  /** How often the run's counts are read; default 1 s. */
  pollMs?: number;
}

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

interface Args {
  file: string;
  resume: boolean;
  planOnly: boolean;
  yes: boolean;
  options: RunOptions;
  /** No target given: only --plan may go on. */
  targetMissing: boolean;
}

/** A plain path as it is, any other quoted for the shell. */
const shellWord = (text: string) => (/^[\w./:@=+-]+$/.test(text) ? text : shellQuote(text));
export const resumeCommand = (file: string) => `npm run backfill -- --resume --file ${shellWord(file)}`;

function parseBackfillArgs(argv: readonly string[], env: NodeJS.ProcessEnv): Args | undefined {
  const { values, positionals } = parseUsage(argv, {
    source: { type: 'string' },
    file: { type: 'string' },
    'event-type': { type: 'string' },
    'occurred-at': { type: 'string' },
    rules: { type: 'string' },
    format: { type: 'string' },
    'rate-share': { type: 'string' },
    'rate-per-minute': { type: 'string' },
    'dry-run': { type: 'boolean' },
    'skip-invalid': { type: 'boolean' },
    plan: { type: 'boolean' },
    yes: { type: 'boolean', short: 'y' },
    resume: { type: 'boolean' },
    local: { type: 'boolean' },
    'sqs-port': { type: 'string' },
    'dynamodb-port': { type: 'string' },
    stage: { type: 'string' },
    region: { type: 'string' },
    service: { type: 'string' },
    'queue-url': { type: 'string' },
    'ledger-table': { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) return undefined;
  if (positionals.length > 0) throw new UsageError(`Unexpected argument '${positionals[0]}' (see --help)`);
  const text = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const file = text('file');
  if (!file) throw new UsageError('--file <export> is required');
  if (values.resume) {
    const allowed = new Set(['resume', 'file', 'yes']);
    const extra = Object.keys(values).filter((name) => !allowed.has(name));
    if (extra.length > 0)
      throw new UsageError(`--resume goes on with the options the run began with; leave out --${extra.join(', --')}`);
    return { file, resume: true, planOnly: false, yes: values.yes === true, options: undefined!, targetMissing: false };
  }
  const source = text('source');
  if (!source) throw new UsageError('--source <name> is required: the rules.yml source the rows are events of');
  const format = text('format');
  if (format !== undefined && !EXPORT_FORMATS.includes(format as ExportFormat))
    throw new UsageError(`--format must be csv, jsonl or json, got '${format}'`);
  const rateShare = Number(text('rate-share') ?? DEFAULT_RATE_SHARE);
  if (!isRateShare(rateShare))
    throw new UsageError(
      `--rate-share must be from ${RATE_SHARE_LIMITS.min} to ${RATE_SHARE_LIMITS.max}, got '${text('rate-share')}': below, the backfill would barely move; above, live events would wait`,
    );
  const ratePerMinute = Number(text('rate-per-minute') ?? deployParamDefault('ratePerMinute'));
  if (!(Number.isSafeInteger(ratePerMinute) && ratePerMinute > 0))
    throw new UsageError(`--rate-per-minute must be a whole number above 0, got '${text('rate-per-minute')}'`);
  const targets = [values.local === true, text('stage') !== undefined, text('queue-url') !== undefined];
  if (targets.filter(Boolean).length > 1) throw new UsageError('Give one target: --local, --stage or --queue-url');
  if (text('ledger-table') !== undefined && text('queue-url') === undefined)
    throw new UsageError('--ledger-table goes with --queue-url');
  const port = (setting: typeof hostSettings.sqsPort, fallback: number) =>
    readSetting(setting, values, env) ?? fallback;
  const region = text('region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  let target: BackfillTarget | undefined;
  if (values.local)
    target = {
      kind: 'local',
      sqsPort: port(hostSettings.sqsPort, DEFAULT_SQS_PORT),
      dynamoDbPort: port(hostSettings.dynamoDbPort, DEFAULT_DYNAMODB_PORT),
    };
  else if (text('stage'))
    target = {
      kind: 'stack',
      stage: text('stage')!,
      region: region ?? 'us-east-1',
      service: text('service') ?? 'helpcrunch-untag',
    };
  else if (text('queue-url'))
    target = {
      kind: 'queue-url',
      queueUrl: text('queue-url')!,
      ...(region && { region }),
      ...(text('ledger-table') && { ledgerTable: text('ledger-table') }),
    };
  const rulesFile = readSetting(hostSettings.rules, values, env) ?? DEFAULT_RULES_FILE;
  return {
    file,
    resume: false,
    planOnly: values.plan === true,
    yes: values.yes === true,
    targetMissing: target === undefined,
    options: {
      source,
      ...(format !== undefined && { format: format as ExportFormat }),
      rulesFile,
      ...(text('event-type') !== undefined && { eventType: text('event-type') }),
      ...(text('occurred-at') !== undefined && { occurredAt: text('occurred-at') }),
      rateShare,
      ratePerMinute,
      dryRun: values['dry-run'] === true,
      skipInvalid: values['skip-invalid'] === true,
      target: target ?? { kind: 'local', sqsPort: DEFAULT_SQS_PORT, dynamoDbPort: DEFAULT_DYNAMODB_PORT },
    },
  };
}

/** Bad input for the run as a whole: printed as it is, nothing sent. */
function explain(error: unknown): string | undefined {
  if (error instanceof UsageError) return `${error.message}\nSee: npm run backfill -- --help`;
  if (error instanceof InvalidRulesError || error instanceof ConfigError) return error.message;
  if (error instanceof ExportError || error instanceof PlanError || error instanceof TargetError) return error.message;
  return undefined;
}

/** Runs the CLI; resolves its exit code. */
export async function runBackfill(argv: readonly string[], io: BackfillIo): Promise<number> {
  try {
    return await backfill(argv, io);
  } catch (error) {
    const message = explain(error);
    if (message === undefined) throw error;
    io.write(`${message}\n`);
    return error instanceof UsageError ? EXIT.usage : EXIT.failed;
  }
}

async function backfill(argv: readonly string[], io: BackfillIo): Promise<number> {
  const args = parseBackfillArgs(argv, io.env);
  if (!args) {
    io.write(`${BACKFILL_HELP}\n`);
    return EXIT.ok;
  }
  const existing = readCheckpoint(args.file);
  if (args.resume && !existing)
    throw new UsageError(`Nothing to resume: there is no ${checkpointPath(args.file)} beside the file`);
  const options = args.resume ? existing!.options : args.options;
  const rulesFile = resolve(options.rulesFile);
  const config = loadRulesFile(rulesFile);
  const file = readExport(args.file, options.format);
  options.format = file.format;
  const now = io.now();
  const occurredAt =
    options.occurredAt === undefined ? undefined : parseOccurredAtOption(options.occurredAt, options.source, now);
  const planOptions = { ...options, occurredAt, fileTime: file.modifiedAt, share: options.rateShare, now };
  const plan = planBackfill(file, compileRules(config), config, planOptions);
  io.write(planText(plan, planOptions));
  const rules = rulesFingerprint(rulesFile);
  if (args.resume) {
    const problem = resumeProblem(existing!, { digest: file.digest, rules });
    if (problem) throw new PlanError(problem);
  } else if (existing) {
    io.write(
      `  Checkpoint              ${checkpointPath(args.file)}: run ${existing.runId} sent up to ${file.rowLabel} ${existing.lastRow}; ` +
        `--resume goes on with it, this starts a new run (rows already applied are skipped as duplicates)\n`,
    );
  }
  const refused = plan.invalid.count > 0 && !options.skipInvalid;
  if (args.planOnly) return refused ? EXIT.failed : EXIT.ok;
  if (refused) {
    io.write(
      `\nNothing sent: ${plan.invalid.count} row${plan.invalid.count === 1 ? ' is' : 's are'} refused. Fix ${plan.invalid.count === 1 ? 'it' : 'them'}, or pass --skip-invalid to send the others.\n`,
    );
    return EXIT.failed;
  }
  if (plan.units === 0) {
    io.write('\nNothing to send: no row matches a rule.\n');
    return EXIT.ok;
  }
  if (plan.estimatedMs > MAX_DRAIN_MS)
    throw new PlanError(
      `\nAt ${options.rateShare} of the rate this backfill takes longer than the backfill queue keeps messages (14 days): split the file, or raise --rate-share.`,
    );
  if (args.targetMissing)
    throw new UsageError('Give a target to send to: --local, --stage <stage> or --queue-url <url> (or --plan)');
  return send(plan, args, options, existing, rules, io);
}

/** What a backfill may take to drain: less than the backfill queue's retention (serverless.yml, 14 days). */
const MAX_DRAIN_MS = 13 * 24 * 60 * 60 * 1000;
const STALLED_AFTER_MS = 60_000;

async function send(
  plan: Plan,
  args: Args,
  options: RunOptions,
  existing: Checkpoint | undefined,
  rules: string,
  io: BackfillIo,
): Promise<number> {
  const target = await resolveTarget(options.target);
  try {
    const checkpoint: Checkpoint =
      args.resume && existing
        ? existing
        : {
            version: 1,
            runId: randomUUID(),
            file: args.file,
            digest: plan.file.digest,
            rules,
            lastRow: 0,
            sentUnits: 0,
            sentJobs: 0,
            complete: false,
            options,
            startedAt: new Date(io.now()).toISOString(),
            updatedAt: new Date(io.now()).toISOString(),
          };
    const remaining = plan.rows.filter(({ row }) => row > checkpoint.lastRow);
    const remainingUnits = remaining.reduce((units, { units: rowUnits }) => units + rowUnits.length, 0);
    const dry = options.dryRun ? ' as a dry run (nothing changes)' : '';
    if (args.resume)
      io.write(
        `\nRun ${checkpoint.runId}: ${checkpoint.complete ? 'every row is sent' : `sent up to ${plan.file.rowLabel} ${checkpoint.lastRow}, ${remaining.length} matching rows to go`}.\n`,
      );
    if (remaining.length > 0 && !args.yes) {
      const question = `\nSend ${count(remainingUnits)} messages to ${target.describe}${dry}? [y/N] `;
      if (!io.confirm) {
        io.write('\nPlanned only: no terminal to ask in. Pass --yes to send.\n');
        return EXIT.ok;
      }
      if (!(await io.confirm(question))) {
        io.write('Nothing sent.\n');
        return EXIT.ok;
      }
    }
    try {
      writeCheckpoint(args.file, checkpoint);
    } catch (error) {
      throw new PlanError(
        `Cannot write the checkpoint ${checkpointPath(args.file)} (${(error as NodeJS.ErrnoException).code}): the run could not be resumed. Nothing sent.`,
      );
    }
    io.write(`\nRun ${checkpoint.runId}${dry}: sending to ${target.describe}; Ctrl-C stops the sending.\n`);

    const interrupt = new AbortController();
    const stopListening = io.onInterrupt(() => interrupt.abort());
    const backfill: BackfillTag = { run: { id: checkpoint.runId, share: options.rateShare }, dryRun: options.dryRun };
    const view = progressView({ interactive: io.interactive, write: io.write, now: io.now });
    const state = () => ({
      rowsSent: plan.rows.filter(({ row }) => row <= checkpoint.lastRow).length,
      rowsTotal: plan.rows.length,
      unitsTotal: plan.units,
    });
    const sending = checkpoint.complete
      ? Promise.resolve('complete' as const)
      : sendRows(plan, checkpoint, target, backfill, { signal: interrupt.signal, file: args.file, now: io.now });
    let settled: RunProgress | undefined;
    try {
      settled = target.runs
        ? await watchRun(target.runs, checkpoint, state, view, sending, {
            signal: interrupt.signal,
            sleep: io.sleep,
            pollMs: io.pollMs ?? 1_000,
            stalledAfterMs: STALLED_AFTER_MS,
            onStalled: () =>
              io.write(
                `\nNothing settled for ${STALLED_AFTER_MS / 1000} s: is the backfill function deployed and running (or npm start, with --local)?\n`,
              ),
            onReadError: (message) =>
              io.write(`\nThe run's progress cannot be read from the ledger (${message}); still trying.\n`),
            now: io.now,
          })
        : undefined;
    } finally {
      view.stop();
      stopListening();
    }
    let sent: 'complete' | 'interrupted';
    try {
      sent = await sending;
    } catch (error) {
      io.write(
        `\nSending stopped: ${(error as Error).message}. Sent up to ${plan.file.rowLabel} ${checkpoint.lastRow}.\nResume with: ${resumeCommand(args.file)}\n`,
      );
      return EXIT.failed;
    }
    if (sent === 'interrupted') {
      io.write(
        `\nStopped: sent up to ${plan.file.rowLabel} ${checkpoint.lastRow} (${count(state().rowsSent)} of ${count(plan.rows.length)} matching rows); the workers go on with what was sent.\nResume with: ${resumeCommand(args.file)}\n`,
      );
      return EXIT.interrupted;
    }
    if (!target.runs) {
      io.write(
        `\nSent every row (${count(checkpoint.sentUnits)} messages). Progress needs the ledger: --ledger-table names it.\n`,
      );
      return EXIT.ok;
    }
    if (interrupt.signal.aborted) {
      io.write(
        `\nEvery row is sent; the workers go on without this watching.\nWatch again with: ${resumeCommand(args.file)}\n`,
      );
      return EXIT.interrupted;
    }
    io.write(`\nDone: every message settled.\n${resultText(settled)}`);
    const failed = settled?.outcomes.some((outcome) => outcome.status === 'failed');
    if (failed) io.write(`Redrive the dead letters once the cause is fixed: ${target.redriveHint}\n`);
    return failed ? EXIT.failed : EXIT.ok;
  } finally {
    target.close();
  }
}

async function main(): Promise<void> {
  const interactive = Boolean(process.stdout.isTTY);
  let interrupts = 0;
  const listeners = new Set<() => void>();
  process.on('SIGINT', () => {
    // Before anything is sent there is nothing to finish; a second Ctrl-C does not wait for the
    // batch in flight (the checkpoint is at most a second behind).
    if (listeners.size === 0 || ++interrupts > 1) process.exit(EXIT.interrupted);
    for (const listener of listeners) listener();
  });
  const code = await runBackfill(process.argv.slice(2), {
    write: (text) => void process.stdout.write(text),
    interactive,
    ...(process.stdin.isTTY && {
      async confirm(question: string) {
        const prompt = createInterface({ input: process.stdin, output: process.stdout });
        // In a terminal readline takes Ctrl-C itself: at the question it means no.
        const answered = new AbortController();
        prompt.on('SIGINT', () => answered.abort());
        try {
          return /^y(es)?$/i.test((await prompt.question(question, { signal: answered.signal })).trim());
        } catch (error) {
          if ((error as Error).name !== 'AbortError') throw error;
          process.stdout.write('\n');
          return false;
        } finally {
          prompt.close();
        }
      },
    }),
    onInterrupt(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
    now: () => Date.now(),
    env: process.env,
  });
  process.exitCode = code;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = EXIT.failed;
  });
}
