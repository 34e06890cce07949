/**
 * A backfill's plan: every row of the export matched against rules.yml exactly as a live event of
 * its source would be (lib/rules/match.ts), given its event id and time (lib/rules/identity.ts),
 * and grouped into units (lib/pipeline/units.ts), before anything is sent. What it counts is what
 * `--plan` prints: rows read, rows refused (with why), rows no rule matches (with the nearest
 * rule's reason, as `npm run invoke -- --explain` gives it), jobs per rule and per tag change, the
 * distinct customer references, and the time it takes at the backfill's share of the rate.
 *
 * Event ids: the row's own, where its source's `eventId` finds one (a Stripe event's `evt_…`; a
 * whole EventBridge event's id), else `backfill:<file digest>:<row>`: the same row of the same file
 * is the same event on every run, so the ledger applies nothing twice. Event times: the source's
 * `occurredAt` read from each row (an EventBridge event's own `time`), else `--occurred-at` (the
 * export's time), which a source without one requires: a row timed "now" would be newer than every
 * live event so far and overwrite what they decided.
 */
import { BadEventError } from '../../lib/errors';
import { checkedOccurredAt, busEventRef, givenEventId, givenOccurredAt } from '../../lib/rules/identity';
import type { Explanation, RuleSet, RuleVerdict } from '../../lib/rules/match';
import { describeSelector } from '../../lib/rules/selector';
import type { RulesConfig, WebhookSourceConfig } from '../../lib/rules/types';
import { parseBusEvent } from '../../lib/triggers/bus-event';
import { unitsOf } from '../../lib/pipeline/units';
import { messageGroupId } from '../../lib/queue/fifo-ids';
import type { EventRef, Job, Unit } from '../../lib/types';
import { didYouMean } from '../../tooling/rules/report';
import { verdictLine } from '../../local/host/explain-text';
import type { ExportFile, ExportRow } from './read';
import { count, formatDuration } from './progress';

/** The backfill cannot be planned as asked: the message says what to change. */
export class PlanError extends Error {}

export interface PlanOptions {
  source: string;
  /** `--event-type`: the type of rows that carry none. */
  eventType?: string;
  /** `--occurred-at` (ms): the time of rows whose source reads none from them. */
  occurredAt?: number;
  /**
   * Without --occurred-at, the export file's modification time: every event in it happened no later,
   * so live events after the export still win over its rows.
   */
  fileTime: number;
  /** The rate the plan's time is estimated at: the backfill's share of the account's. */
  share: number;
  ratePerMinute: number;
  /** Now, for the checks on times read from rows (none more than an hour ahead). */
  now: number;
}

/** A row whose rules matched: its units, in the order they are sent. */
export interface PlannedRow {
  row: number;
  units: Unit[];
}

export interface UnmatchedReason {
  /** The nearest rule and the check it failed on, e.g. `deal-lost: when`. */
  key: string;
  count: number;
  /** The first such row, and its verdict as `--explain` shows it. */
  row: number;
  explanation: string;
}

export interface Plan {
  file: ExportFile;
  source: string;
  /** How the rows' events are timed, for the plan's reader. */
  timing: string;
  rowsRead: number;
  /** Rows refused: the number, and the first MAX_SHOWN with why. */
  invalid: { count: number; first: { row: number; reason: string }[] };
  unmatched: { count: number; reasons: UnmatchedReason[] };
  rows: PlannedRow[];
  units: number;
  jobs: number;
  jobsByRule: Map<string, number>;
  /** `remove <tag>` / `add <tag>` -> jobs. */
  tagChanges: Map<string, number>;
  customerReferences: number;
  /** At most this many HelpCrunch requests: a search per reference that is not a HelpCrunch id, a DELETE, a PUT. */
  requests: number;
  /** At the share of the rate. */
  estimatedMs: number;
}

export const MAX_SHOWN = 20;

type SourceKind = { kind: 'webhook'; config: WebhookSourceConfig } | { kind: 'eventbridge' };

function sourceOf(rules: RulesConfig, source: string): SourceKind {
  const config = Object.hasOwn(rules.sources, source) ? rules.sources[source] : undefined;
  if (config) return { kind: 'webhook', config };
  if (Object.hasOwn(rules.eventSources, source)) return { kind: 'eventbridge' };
  const names = [...Object.keys(rules.sources), ...Object.keys(rules.eventSources)];
  const near = didYouMean(source, names);
  throw new PlanError(
    `Unknown source '${source}'${near ? ` (did you mean ${near}?)` : ''}: rules.yml has ${names.map((name) => `'${name}'`).join(', ')}`,
  );
}

/**
 * Where a row carries its own time: the source's occurredAt when it is a field. A header finds
 * nothing in a row: such a source's rows are timed by --occurred-at or the file.
 */
const rowTime = (config: WebhookSourceConfig) =>
  config.occurredAt && 'field' in config.occurredAt ? config.occurredAt : undefined;

/** How rows are timed: read from each (the source's occurredAt), --occurred-at, or the file's modification time. */
function timingOf(source: string, kind: SourceKind, occurredAt: number | undefined, fileTime: number): string {
  const selector = kind.kind === 'webhook' ? rowTime(kind.config) : undefined;
  if (selector && occurredAt !== undefined)
    throw new PlanError(
      `Source '${source}' reads each event's time from its ${describeSelector(selector)}: leave --occurred-at out, each row is timed by its own`,
    );
  if (selector) return `each row's ${describeSelector(selector)} (the source's occurredAt)`;
  if (occurredAt !== undefined) return `${new Date(occurredAt).toISOString()} (--occurred-at)`;
  if (kind.kind === 'eventbridge') return "each EventBridge event's own time";
  // Not "now": rows timed now would be newer than every live event so far and overwrite what those decided.
  return `${new Date(fileTime).toISOString()} (the file's modification time: its rows lose to live events after it; --occurred-at <ISO 8601> says when the export was really taken)`;
}

/** `--occurred-at` as ms, checked as an event's time is. */
export function parseOccurredAtOption(text: string, source: string, now: number): number {
  try {
    return checkedOccurredAt(text, source, '--occurred-at', now);
  } catch (error) {
    if (error instanceof BadEventError) throw new PlanError(error.message);
    throw error;
  }
}

export function planBackfill(file: ExportFile, rules: RuleSet, config: RulesConfig, options: PlanOptions): Plan {
  const { source, occurredAt } = options;
  const kind = sourceOf(config, source);
  const plan: Plan = {
    file,
    source,
    timing: timingOf(source, kind, occurredAt, options.fileTime),
    rowsRead: 0,
    invalid: { count: 0, first: [] },
    unmatched: { count: 0, reasons: [] },
    rows: [],
    units: 0,
    jobs: 0,
    jobsByRule: new Map(),
    tagChanges: new Map(),
    customerReferences: 0,
    requests: 0,
    estimatedMs: 0,
  };
  const unmatched = new Map<string, UnmatchedReason>();
  const references = new Set<string>();
  const refuse = (row: number, reason: string) => {
    plan.invalid.count++;
    if (plan.invalid.first.length < MAX_SHOWN) plan.invalid.first.push({ row, reason });
  };
  const eventIdFor = (row: number) => `backfill:${file.digest}:${row}`;

  for (const read of file.rows()) {
    plan.rowsRead++;
    if ('problem' in read) {
      refuse(read.row, read.problem);
      continue;
    }
    let matched: { event: EventRef; jobs: Job[] } | { explanation: Explanation };
    try {
      matched =
        kind.kind === 'webhook'
          ? matchWebhookRow(read, kind.config, rules, options, eventIdFor(read.row))
          : matchEventRow(read, rules, options, eventIdFor(read.row));
    } catch (error) {
      if (!(error instanceof BadEventError)) throw error;
      refuse(read.row, error.message);
      continue;
    }
    if ('explanation' in matched) {
      plan.unmatched.count++;
      const nearest = nearestReason(matched.explanation);
      const known = unmatched.get(nearest.key);
      if (known) known.count++;
      else unmatched.set(nearest.key, { ...nearest, count: 1, row: read.row });
      continue;
    }
    const units = unitsOf(matched.event, matched.jobs);
    plan.rows.push({ row: read.row, units });
    for (const unit of units) {
      plan.units++;
      references.add(messageGroupId(unit.customer));
      const removes = unit.jobs.some((job) => job.removeTags.length > 0);
      const adds = unit.jobs.some((job) => job.addTags.length > 0);
      plan.requests += (unit.customer.by === 'helpcrunchId' ? 0 : 1) + (removes ? 1 : 0) + (adds ? 1 : 0);
      for (const job of unit.jobs) {
        plan.jobs++;
        increment(plan.jobsByRule, job.rule);
        for (const tag of job.removeTags) increment(plan.tagChanges, `remove ${tag}`);
        for (const tag of job.addTags) increment(plan.tagChanges, `add ${tag}`);
      }
    }
  }
  plan.unmatched.reasons = [...unmatched.values()].sort((a, b) => b.count - a.count);
  plan.customerReferences = references.size;
  plan.estimatedMs = (plan.requests / (options.share * options.ratePerMinute)) * 60_000;
  return plan;
}

const increment = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

function matchWebhookRow(
  { payload }: Extract<ExportRow, { payload: unknown }>,
  config: WebhookSourceConfig,
  rules: RuleSet,
  { source, eventType, occurredAt, fileTime, now }: PlanOptions,
  fallbackId: string,
): { event: EventRef; jobs: Job[] } | { explanation: Explanation } {
  const received = { source, payload, headers: {} };
  const matchOptions = eventType === undefined ? {} : { fallbackEventType: eventType };
  const jobs = rules.matchWebhook(received, matchOptions);
  if (jobs.length === 0) return { explanation: rules.explainWebhook(received, matchOptions) };
  const time = rowTime(config) ? givenOccurredAt(source, config, payload, {}, now)! : (occurredAt ?? fileTime);
  return { event: { source, id: givenEventId(config, payload, {}) ?? fallbackId, occurredAt: time }, jobs };
}

/** A whole EventBridge event (its own id and time), or its detail alone (typed by --event-type, timed by --occurred-at). */
function matchEventRow(
  { payload }: Extract<ExportRow, { payload: unknown }>,
  rules: RuleSet,
  { source, eventType, occurredAt, now }: PlanOptions,
  fallbackId: string,
): { event: EventRef; jobs: Job[] } | { explanation: Explanation } {
  const whole = 'detail-type' in payload && 'detail' in payload;
  if (whole) {
    const event = parseBusEvent(payload);
    if (event.source !== source)
      throw new BadEventError('wrong_source', `is an event of source '${event.source}', not '${source}'`);
    const jobs = rules.matchEvent(event);
    return jobs.length === 0 ? { explanation: rules.explainEvent(event) } : { event: busEventRef(event, now), jobs };
  }
  if (occurredAt === undefined)
    throw new PlanError(
      `Rows of ${source} that are an event's detail alone carry no time: pass --occurred-at <ISO 8601>, when the export was taken` +
        ' (or export whole EventBridge events, which carry theirs)',
    );
  const event = { source, detailType: eventType ?? '', detail: payload };
  const jobs = rules.matchEvent(event);
  if (jobs.length === 0) return { explanation: rules.explainEvent(event) };
  return { event: { source, id: fallbackId, occurredAt }, jobs };
}

const STAGES: Record<NonNullable<RuleVerdict['failed']>, number> = { eventType: 0, when: 1, customer: 2 };

/** The rule that got furthest before a check failed (the first such in rules.yml order), and its verdict. */
function nearestReason(explanation: Explanation): Omit<UnmatchedReason, 'count' | 'row'> {
  const [nearest] = [...explanation.rules].sort(
    (a, b) => STAGES[b.failed ?? 'eventType'] - STAGES[a.failed ?? 'eventType'],
  );
  if (!nearest) return { key: 'no rule', explanation: `  no rule has source ${explanation.source}` };
  return { key: `${nearest.rule}: ${nearest.failed}`, explanation: verdictLine(nearest) };
}

/** What the plan says, line by line (docs/backfill.md explains each). */
export function planText(plan: Plan, { share, ratePerMinute }: Pick<PlanOptions, 'share' | 'ratePerMinute'>): string {
  const { file } = plan;
  const label = (row: number) => `${file.rowLabel} ${row}`;
  const lines = [
    `Plan for ${file.path} (${file.format.toUpperCase()}, digest ${file.digest}), source ${plan.source}`,
    `  Rows read               ${count(plan.rowsRead)}`,
    `  Rows refused            ${count(plan.invalid.count)}${plan.invalid.count > MAX_SHOWN ? ` (the first ${MAX_SHOWN}:)` : ''}`,
    ...plan.invalid.first.map(({ row, reason }) => `    ${label(row)}: ${reason}`),
    `  Rows matching no rule   ${count(plan.unmatched.count)}${plan.unmatched.count > 0 ? ' (by the nearest rule and why, the first row of each)' : ''}`,
    ...plan.unmatched.reasons.map(
      ({ count: rows, row, explanation }) => `    ${count(rows)} × ${label(row)}:${explanation.replace(/^ +/, ' ')}`,
    ),
    `  Jobs                    ${count(plan.jobs)} in ${count(plan.units)} messages (a message per row and customer)`,
    ...[...plan.jobsByRule].map(([rule, jobs]) => item(rule, count(jobs))),
    `  Tag changes`,
    ...[...plan.tagChanges].map(([change, jobs]) => item(change, count(jobs))),
    `  Customer references     ${count(plan.customerReferences)} distinct`,
    `  Events timed by         ${plan.timing}`,
    `  Time                    ${plan.jobs === 0 ? 'none' : `about ${formatDuration(plan.estimatedMs)}`}: at most ${count(plan.requests)} HelpCrunch requests at ${trim(share * ratePerMinute)}/min (${share} of ${ratePerMinute}/min); less where customers are not found or already as the rules say`,
  ];
  return `${lines.join('\n')}\n`;
}

const trim = (value: number) => Number(value.toFixed(1));
/** A line under a heading, its count in the headings' column when the name leaves room. */
const item = (name: string, value: string) => `    ${name.padEnd(20)}  ${value}`;
