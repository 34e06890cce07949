/** The problem list of a rules.yml validation, and the small readers every section shares. */
import { JMESPathError, JMESPathTypeError } from '@aws-lambda-powertools/jmespath';
import { evaluate } from '../../lib/rules/jmespath';

interface Entry {
  text: string;
  /** Where its entity stands in the file: problems are listed in file order. */
  rank: number;
  /** Unknown keys come first within an entity: they often explain what is missing. */
  early: boolean;
}

/** Everything one validation found: problems fail it, warnings are printed by check-rules. */
export class Findings {
  private readonly entries: Entry[] = [];
  private readonly reports = new Map<string, Report>();
  readonly warnings: string[] = [];

  /** Each once, in file order (stable within an entity). */
  get problems(): string[] {
    const sorted = [...this.entries].sort((a, b) => a.rank - b.rank || Number(b.early) - Number(a.early));
    return [...new Set(sorted.map((entry) => entry.text))];
  }

  /**
   * The report for one entity, e.g. `rules[2] "churned"` or `sources.crm`, the same one each time;
   * `rank`: its place in the file (entities without one come last, in the order reported).
   */
  at(entity: string, rank = Number.MAX_SAFE_INTEGER): Report {
    const report = this.reports.get(entity) ?? new Report(entity, rank, this.entries, this.warnings);
    this.reports.set(entity, report);
    return report;
  }
}

/** Collects the problems of one entity (a source, a lookup or a rule) into the shared findings. */
export class Report {
  /** Problems reported through this entity so far: a reader compares before/after its checks. */
  count = 0;
  constructor(
    private readonly entity: string,
    private readonly rank: number,
    private readonly entries: Entry[],
    private readonly warnings: string[],
  ) {}

  add(field: string, message: string, { early = false } = {}): void {
    this.count += 1;
    this.entries.push({ text: this.line(field, message), rank: this.rank, early });
  }

  warn(field: string, message: string): void {
    this.warnings.push(this.line(field, message));
  }

  private line(field: string, message: string): string {
    return field ? `${this.entity}: ${field}: ${message}` : `${this.entity}: ${message}`;
  }
}

/** Reports every key outside `allowed`. */
export function checkKeys(raw: Record<string, unknown>, allowed: readonly string[], report: Report, prefix = ''): void {
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) report.add(`${prefix}${key}`, unknownKey(key, allowed));
  }
}

/** Names the allowed key a typo most likely meant (`removetags`, `adTags`), or lists them all. */
export function unknownKey(key: string, allowed: readonly string[]): string {
  const near = didYouMean(key, allowed);
  return near ? `unknown key (did you mean ${near}?)` : `unknown key (expected ${allowed.join(', ')})`;
}

/** The candidate within two edits of `name` (case ignored), if exactly one is nearest. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  let tie = false;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance, tie] = [candidate, distance, false];
    else if (distance === bestDistance) tie = true;
  }
  return tie ? undefined : best;
}

/** Levenshtein distance, two rows at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * That a JMESPath expression parses and calls known functions with the right number of arguments
 * (a blank one is the schema's to report).
 */
export function checkExpression(expression: string, field: string, report: Report): void {
  if (expression.trim() === '') return;
  try {
    // Powertools exports no standalone parser: evaluating against {} parses the expression and
    // checks the functions it reaches (names, argument counts).
    evaluate(expression, {});
  } catch (error) {
    // A type error depends on the data ({} here has none), so it says nothing about the expression.
    if (error instanceof JMESPathTypeError) return;
    if (!(error instanceof JMESPathError)) throw error;
    report.add(field, `invalid JMESPath: ${error.message}`);
  }
}

/**
 * A list of names (tags, sources, event types): non-empty strings with no surrounding whitespace
 * (they are matched or sent exactly as written) and no duplicates. `single` also takes one string.
 */
export function readNameList(
  raw: unknown,
  field: string,
  report: Report,
  options: { single: boolean; max?: number; allowEmpty?: boolean },
): string[] | undefined {
  if (raw === undefined || raw === null) {
    report.add(field, 'is required');
    return undefined;
  }
  const list = typeof raw === 'string' && options.single ? [raw] : raw;
  if (!Array.isArray(list)) {
    report.add(field, options.single ? 'must be a string or a list of strings' : 'must be a list of strings');
    return undefined;
  }
  const before = report.count;
  if (list.length === 0 && !options.allowEmpty) report.add(field, 'must not be empty');
  if (options.max !== undefined && list.length > options.max) {
    report.add(field, `at most ${options.max} entries, got ${list.length}`);
  }
  const seen = new Set<string>();
  list.forEach((item, index) => {
    const at = Array.isArray(raw) ? `${field}[${index}]` : field;
    if (typeof item !== 'string') {
      const hint = typeof item === 'number' || typeof item === 'boolean' ? ' (quote it in YAML)' : '';
      report.add(at, `must be a string${hint}`);
    } else if (item.trim() === '') {
      report.add(at, 'must not be empty');
    } else if (item !== item.trim()) {
      report.add(at, `"${item}" has leading or trailing whitespace (values are used exactly as written)`);
    } else if (seen.has(item)) {
      report.add(at, `duplicate "${item}"`);
    } else {
      seen.add(item);
    }
  });
  return report.count > before ? undefined : [...(list as string[])];
}

/**
 * An http(s) URL a lookup may call: https, or http to a loopback host (local stand-ins, as for
 * HELPCRUNCH_API_URL); no credentials or fragment.
 */
export function readServiceUrl(raw: unknown, field: string, report: Report): URL | undefined {
  if (typeof raw !== 'string' || !URL.canParse(raw)) {
    report.add(field, 'must be an absolute https URL');
    return undefined;
  }
  const url = new URL(raw);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    report.add(field, 'must use https (plain http only to a loopback host)');
    return undefined;
  }
  if (url.username || url.password || url.hash) {
    report.add(field, 'must not carry credentials or a fragment');
    return undefined;
  }
  return url;
}

/**
 * A value inside a message: JSON-quoted, with every character that could hide or reorder text in a
 * terminal (controls, bidirectional marks) escaped, so the message shows what the file holds.
 */
export function quoted(value: unknown): string {
  return (JSON.stringify(value) ?? String(value)).replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
