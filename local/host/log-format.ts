/**
 * Turns what a function prints (Powertools JSON log lines, EMF metrics, plain text) into the
 * readable lines the local host shows: one per processed job, one per rejected request.
 * `--json-logs` shows the lines unchanged instead.
 */
import type { Outcome } from '../../lib/types';

interface LogEntry {
  timestamp?: string;
  level?: string;
  message?: string;
  job?: Outcome;
  status?: number;
  code?: string;
  reason?: string;
  error?: { name?: string; message?: string; stack?: string };
}

const STATUS_MARK: Record<Outcome['status'], string> = { untagged: '✓', skipped: '·', failed: '✗' };

// Noise in a local run: EMF metric documents, and Powertools' note when an invocation recorded none.
const hidden = (line: string) => line.startsWith('No application metrics to publish');

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** HH:MM:SS of an ISO timestamp (the log entry's), or of now. */
export function clock(iso: string = new Date().toISOString()): string {
  return iso.slice(11, 19);
}

function formatJob({ rule, customerId, tags, status, reason, attempts, ms }: Outcome, timestamp?: string): string {
  return [
    `${clock(timestamp)}   ${STATUS_MARK[status]} ${status.padEnd(8)}`,
    rule,
    customerId === null ? 'no customer' : `customer ${customerId}`,
    `[${tags.join(', ')}]`,
    ...(reason ? [reason] : []),
    plural(attempts, 'attempt'),
    `${Math.round(ms)} ms`,
  ].join('  ');
}

/** The readable form of one printed line, or undefined when it is not worth showing. */
export function formatLogLine(line: string): string | undefined {
  let entry: LogEntry & { _aws?: unknown };
  try {
    entry = JSON.parse(line) as typeof entry;
  } catch {
    return hidden(line) ? undefined : line;
  }
  if (typeof entry !== 'object' || entry === null) return line;
  if (entry._aws !== undefined) return undefined;
  const { message = '', level = 'INFO' } = entry;
  const time = clock(entry.timestamp);
  if (entry.job && /^job (untagged|skipped|failed)$/.test(message)) return formatJob(entry.job, entry.timestamp);
  if (message === 'webhook rejected') return `${time}   ✗ rejected ${entry.status} ${entry.code}: ${entry.reason}`;
  if (message === 'event rejected') return `${time}   ✗ rejected ${entry.reason}`;
  const error = entry.error?.stack ?? entry.error?.message;
  return `${time}   [${level}] ${message}${error ? `\n${error}` : ''}`;
}
