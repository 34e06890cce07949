/**
 * Turns what a function prints (Powertools JSON log lines, EMF metrics, plain text) into the
 * readable lines the local host shows: one per processed job, one per rejected request; in queue
 * mode also one per enqueue and one per message the worker did not settle as done.
 * `--json-logs` shows the lines unchanged instead.
 */
import type { MessageResult } from '../../lib/queue/worker';
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
  queued?: number;
  sqsMessage?: Pick<MessageResult, 'messageId' | 'action' | 'receiveCount' | 'visibilitySeconds' | 'heldBehind'>;
}

const STATUS_MARK: Record<Outcome['status'], string> = {
  untagged: '✓',
  tagged: '✓',
  would_untag: '○',
  would_tag: '○',
  skipped: '·',
  failed: '✗',
};

// Noise in a local run: EMF metric documents, and Powertools' note when an invocation recorded none.
const hidden = (line: string) => line.startsWith('No application metrics to publish');

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** HH:MM:SS of an ISO timestamp (the log entry's), or of now. */
export function clock(iso: string = new Date().toISOString()): string {
  return iso.slice(11, 19);
}

function formatJob(
  { rule, customerId, removed, added, status, reason, requests, ms }: Outcome,
  timestamp?: string,
): string {
  return [
    `${clock(timestamp)}   ${STATUS_MARK[status]} ${status.padEnd(11)}`,
    rule,
    customerId === null ? 'no customer' : `customer ${customerId}`,
    ...(removed.length > 0 ? [`− ${removed.join(', ')}`] : []),
    ...(added.length > 0 ? [`+ ${added.join(', ')}`] : []),
    ...(reason ? [reason] : []),
    // Lookups, searches and writes alike.
    plural(requests, 'request'),
    `${Math.round(ms)} ms`,
  ].join('  ');
}

/** A queued message the worker did not settle as done (its job line says how done ones went). */
function formatMessage({ sqsMessage, code, reason }: LogEntry, time: string): string | undefined {
  const { action, messageId, receiveCount, visibilitySeconds, heldBehind } = sqsMessage!;
  const why = code ? `  ${code}${reason ? `: ${reason}` : ''}` : '';
  const message = `message ${messageId.slice(0, 8)}, receive ${receiveCount}`;
  switch (action) {
    case 'done':
      return undefined;
    case 'retry':
      return `${time}   ↻ retry    ${message}${why}${visibilitySeconds === undefined ? '' : `  (again in ${visibilitySeconds} s)`}`;
    case 'dead-letter':
      return `${time}   ✗ dead-lettered  ${message}${why}`;
    case 'deferred':
      return `${time}   ↻ deferred ${message}  (no time left in this invocation)`;
    case 'held':
      return `${time}   ↻ held     ${message}  (behind message ${heldBehind?.slice(0, 8)} of its customer)`;
  }
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
  if (entry.job && /^job (untagged|tagged|would_untag|would_tag|skipped|failed)$/.test(message))
    return formatJob(entry.job, entry.timestamp);
  if (message === 'webhook rejected') return `${time}   ✗ rejected ${entry.status} ${entry.code}: ${entry.reason}`;
  if (message === 'event rejected') return `${time}   ✗ rejected ${entry.reason}`;
  if (message === 'jobs queued') return `${time}   → queued   ${plural(entry.queued ?? 0, 'job')}`;
  if (entry.sqsMessage && /^message (done|retry|dead-letter|deferred|held)$/.test(message))
    return formatMessage(entry, time);
  const error = entry.error?.stack ?? entry.error?.message;
  return `${time}   [${level}] ${message}${error ? `\n${error}` : ''}`;
}
