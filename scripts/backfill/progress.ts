/**
 * What a backfill shows while it runs, fed by what the workers really settled (the run's counts in
 * the ledger, lib/ledger/runs.ts), not by what was sent: in a terminal a progress bar (cli-progress)
 * of messages settled, with rows sent, jobs done / skipped / failed, the rate and the time left;
 * anywhere else (CI, a pipe) a plain line every few seconds. At the end, a table per rule and
 * outcome, and the failures with their reasons.
 */
import { SingleBar } from 'cli-progress';
import type { RunProgress } from '../../lib/ledger/runs';

export interface ProgressState {
  rowsSent: number;
  rowsTotal: number;
  unitsSent: number;
  unitsTotal: number;
  /** The run's counts; undefined before the first is read (or without the ledger). */
  settled?: RunProgress;
}

export interface ProgressView {
  update(state: ProgressState): void;
  stop(): void;
}

/** done / skipped / failed jobs: changed (or would change, dry), left alone, dead-lettered. */
export function jobTotals(progress: RunProgress | undefined): { done: number; skipped: number; failed: number } {
  const totals = { done: 0, skipped: 0, failed: 0 };
  for (const { status, count } of progress?.outcomes ?? []) {
    if (status === 'skipped') totals.skipped += count;
    else if (status === 'failed') totals.failed += count;
    else totals.done += count;
  }
  return totals;
}

/** Settled messages per minute over the last WINDOW_MS, and the time left at that pace. */
class Pace {
  private readonly samples: { at: number; settled: number }[] = [];
  constructor(private readonly now: () => number) {}

  add(settled: number): void {
    const at = this.now();
    this.samples.push({ at, settled });
    while (this.samples.length > 2 && at - this.samples[0]!.at > WINDOW_MS) this.samples.shift();
  }

  perMinute(): number | undefined {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.at - first.at < 2_000) return undefined;
    return ((last.settled - first.settled) / (last.at - first.at)) * 60_000;
  }

  etaMs(remaining: number): number | undefined {
    const rate = this.perMinute();
    if (remaining <= 0) return 0;
    return rate && rate > 0 ? (remaining / rate) * 60_000 : undefined;
  }
}

const WINDOW_MS = 60_000;
/** A plain line this often when not in a terminal. */
export const PLAIN_LINE_MS = 5_000;

export function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (ms < 60_000) return `${Math.max(1, Math.round(ms / 1000))} s`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ${minutes % 60} min` : `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** A count as people read it: 1,000. */
export const count = (value: number): string => value.toLocaleString('en-US');

function summary(state: ProgressState, pace: Pace): Record<string, string> {
  const { done, skipped, failed } = jobTotals(state.settled);
  const settled = state.settled?.units ?? 0;
  const rate = pace.perMinute();
  const eta = pace.etaMs(state.unitsTotal - settled);
  return {
    rows: `${count(state.rowsSent)}/${count(state.rowsTotal)}`,
    jobs: `done ${count(done)}, skipped ${count(skipped)}, failed ${count(failed)}`,
    rate: rate === undefined ? '…' : `${count(Math.round(rate))}/min`,
    left: eta === undefined ? '…' : formatDuration(eta),
    settled: `${count(settled)}/${count(state.unitsTotal)}`,
  };
}

export function progressView({
  interactive,
  write,
  stream = process.stdout,
  now = () => Date.now(),
}: {
  interactive: boolean;
  write: (text: string) => void;
  stream?: NodeJS.WritableStream;
  now?: () => number;
}): ProgressView {
  const pace = new Pace(now);
  if (interactive) {
    const bar = new SingleBar({
      // {eta} is cli-progress's own (from the bar's values): ours is from the recent pace.
      format: '{bar} {percentage}% | messages {settled} | rows sent {rows} | jobs {jobs} | {rate} | ETA {left}',
      stream,
      barsize: 24,
      hideCursor: true,
      fps: 4,
    });
    let started = false;
    return {
      update(state) {
        pace.add(state.settled?.units ?? 0);
        const payload = summary(state, pace);
        const value = Math.min(state.settled?.units ?? 0, state.unitsTotal);
        if (!started) bar.start(Math.max(1, state.unitsTotal), value, payload);
        else bar.update(value, payload);
        started = true;
      },
      stop: () => bar.stop(),
    };
  }
  let lastLineAt = Number.NEGATIVE_INFINITY;
  let last: ProgressState | undefined;
  const line = (state: ProgressState) => {
    const { rows, settled, jobs, rate, left } = summary(state, pace);
    write(`backfill: rows sent ${rows}; messages settled ${settled}; jobs ${jobs}; ${rate}; ETA ${left}\n`);
    lastLineAt = now();
  };
  return {
    update(state) {
      pace.add(state.settled?.units ?? 0);
      last = state;
      if (now() - lastLineAt >= PLAIN_LINE_MS) line(state);
    },
    stop() {
      if (last && lastLineAt < now()) line(last);
    },
  };
}

/** The table per rule and outcome, then each failure's reason, as the workers counted them. */
export function resultText(progress: RunProgress | undefined): string {
  if (!progress || progress.outcomes.length === 0) return 'No job has been settled yet.\n';
  const rows = [...progress.outcomes]
    .sort((a, b) => a.rule.localeCompare(b.rule) || b.count - a.count)
    .map(({ rule, status, reason, count: jobs }) => [rule, reason ? `${status} (${reason})` : status, count(jobs)]);
  const header = ['Rule', 'Outcome', 'Jobs'];
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column]!.length)));
  const table = [header, ...rows].map(
    (row) =>
      `  ${row
        .map((cell, column) => (column === 2 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
        .join('   ')
        .trimEnd()}`,
  );
  const failures = progress.failures.map(({ rule, reason, detail }) => `  ${rule}: ${reason}: ${detail}`);
  return [
    ...table,
    ...(failures.length > 0
      ? ['', 'Failures (one message per rule and reason; the jobs wait in the dead-letter queue):', ...failures]
      : []),
  ]
    .join('\n')
    .concat('\n');
}
