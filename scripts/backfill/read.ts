/**
 * An export file as the rows a backfill matches, one payload each:
 *   .csv              a header row, then one row per payload: an object keyed by the header, each
 *                     value a string; a dotted header (`person.email`) nests (`{"person": {"email": …}}`)
 *                     so a row meets the same JMESPath as the sender's JSON. Parsed by csv-parse.
 *   .jsonl, .ndjson   one JSON object per line (a payload, or a whole EventBridge event); blank lines skipped
 *   .json             a JSON array of such objects
 * `--format` overrides the extension. A row is numbered by its line in the file (CSV: where it
 * starts), or for a JSON array by its element number from 1: the number stays the same however
 * often the same file is read, and with the file's digest names the row's event.
 *
 * What makes a whole file unusable (not text, empty, not the format its name says, a broken CSV
 * quote, a header with empty or repeated names) is an ExportError naming the file; what is wrong
 * with one row (not JSON, not an object, fields that do not match the header) is that row's problem.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { digest } from '../../lib/digest';
import { isRecord, jsonKind } from '../../lib/json';

export type ExportFormat = 'csv' | 'jsonl' | 'json';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'jsonl', 'json'];

/** One row of the export: its payload, or why it cannot be one. */
export type ExportRow = { row: number; payload: Record<string, unknown> } | { row: number; problem: string };

export interface ExportFile {
  path: string;
  format: ExportFormat;
  /** A digest of the file's bytes: part of each row's event id, and what a resumed run checks. */
  digest: string;
  /** How rows are numbered in messages: by line, or by element of a JSON array. */
  rowLabel: 'line' | 'element';
  /** The file's modification time in whole milliseconds, as every event time is (mtimeMs carries a fraction). */
  modifiedAt: number;
  rows(): Iterable<ExportRow>;
}

/** The whole file cannot be read as an export. */
export class ExportError extends Error {}

/** Larger files are refused: they are read whole, and a backfill that large is better split. */
export const MAX_EXPORT_BYTES = 512 * 1024 * 1024;

const EXTENSIONS: Record<string, ExportFormat> = {
  '.csv': 'csv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'json',
};
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function formatOf(path: string, given?: ExportFormat): ExportFormat {
  if (given) return given;
  const extension = extname(path).toLowerCase();
  const format = EXTENSIONS[extension];
  if (format) return format;
  const spreadsheet = ['.xlsx', '.xls', '.ods', '.numbers'].includes(extension) ? ' Save the sheet as CSV first.' : '';
  throw new ExportError(
    `${basename(path)}: cannot tell the format from the name: use .csv, .jsonl (or .ndjson) or .json, or pass --format csv|jsonl|json.${spreadsheet}`,
  );
}

export function readExport(path: string, given?: ExportFormat): ExportFile {
  const name = basename(path);
  const format = formatOf(path, given);
  let bytes: Buffer;
  let modifiedAt: number;
  try {
    const stat = statSync(path);
    modifiedAt = Math.floor(stat.mtimeMs);
    if (stat.size > MAX_EXPORT_BYTES)
      throw new ExportError(`${name} is larger than ${MAX_EXPORT_BYTES / 1024 / 1024} MiB: split it, one run per part`);
    bytes = readFileSync(path);
  } catch (error) {
    if (error instanceof ExportError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ExportError(
      code === 'ENOENT' ? `${path} does not exist` : `${path} cannot be read (${code ?? (error as Error).message})`,
    );
  }
  const text = decode(bytes, name);
  if (text.trim() === '') throw new ExportError(`${name} is empty`);
  const looksJson = /^\s*[[{]/.test(text);
  const rows =
    format === 'csv'
      ? csvRows(text, name, looksJson)
      : format === 'jsonl'
        ? jsonLines(text, name)
        : jsonArray(text, name);
  return { path, format, digest: digest(bytes), rowLabel: format === 'json' ? 'element' : 'line', modifiedAt, rows };
}

/** Strict UTF-8, a BOM dropped: anything else is a spreadsheet, an archive or another encoding. */
function decode(bytes: Buffer, name: string): string {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    text = '\u0000';
  }
  if (text.includes('\u0000'))
    throw new ExportError(
      `${name} is not UTF-8 text (a spreadsheet, a compressed file, or another encoding such as UTF-16?): export it as CSV or JSON in UTF-8`,
    );
  return text.replace(/^\uFEFF/, '');
}

function csvRows(text: string, name: string, looksJson: boolean): () => Iterable<ExportRow> {
  if (looksJson)
    throw new ExportError(
      `${name} holds JSON, not CSV: name it .jsonl (one object per line) or .json (an array), or pass --format`,
    );
  let records: { record: string[]; raw: string; info: { lines: number } }[];
  try {
    // Line ends made \n, so csv-parse counts lines as editors do (with \r\n it counts some twice).
    records = parseCsv(text.replace(/\r\n?/g, '\n'), {
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
      raw: true,
    }) as never;
  } catch (error) {
    throw new ExportError(`${name} is not valid CSV: ${(error as Error).message}`);
  }
  const [header, ...body] = records;
  if (!header) throw new ExportError(`${name} is empty`);
  const columns = header.record.map((column) => column.trim());
  checkHeader(columns, name);
  if (body.length === 0) throw new ExportError(`${name} has a header row and no rows`);
  return function* () {
    for (const { record, raw, info } of body) {
      // info.lines is where the record ends (a quoted field may span lines); raw holds the empty lines skipped before it.
      const row = info.lines - (raw.replace(/^\n+|\n$/g, '').match(/\n/g)?.length ?? 0);
      if (record.length !== columns.length) {
        yield { row, problem: `has ${record.length} fields, the header has ${columns.length}` };
        continue;
      }
      yield { row, payload: nest(columns, record) };
    }
  };
}

/** Names present, none repeated, and no name both a value and a parent of others (`person`, `person.email`). */
function checkHeader(columns: string[], name: string): void {
  const empty = columns.findIndex((column) => column === '' || column.split('.').includes(''));
  if (empty !== -1) throw new ExportError(`${name}: column ${empty + 1} of the header has an empty name`);
  const seen = new Set<string>();
  for (const column of columns) {
    if (seen.has(column)) throw new ExportError(`${name}: the header names column "${column}" twice`);
    seen.add(column);
  }
  for (const column of columns) {
    const parent = columns.find((other) => other.startsWith(`${column}.`));
    if (parent)
      throw new ExportError(`${name}: the header has both "${column}" and "${parent}", which would nest inside it`);
  }
}

/** A row as an object, dotted names nested. Built with fromEntries: a name like "__proto__" is an own key, nothing more. */
function nest(columns: string[], values: string[]): Record<string, unknown> {
  const tree = new Map<string, unknown>();
  columns.forEach((column, index) => {
    const path = column.split('.');
    let node = tree;
    for (const part of path.slice(0, -1)) {
      const child = (node.get(part) as Map<string, unknown> | undefined) ?? new Map<string, unknown>();
      node.set(part, child);
      node = child;
    }
    node.set(path.at(-1)!, values[index]);
  });
  const toObject = (node: Map<string, unknown>): Record<string, unknown> =>
    Object.fromEntries([...node].map(([key, value]) => [key, value instanceof Map ? toObject(value) : value]));
  return toObject(tree);
}

function jsonLines(text: string, name: string): () => Iterable<ExportRow> {
  const lines = text.split('\n');
  const first = lines.findIndex((line) => line.trim() !== '');
  try {
    JSON.parse(lines[first]!);
  } catch {
    throw new ExportError(
      `${name}: line ${first + 1} is not JSON, so this is not JSON Lines${/^\s*[[{]/.test(text) ? '' : ' (is it CSV? name it .csv)'}`,
    );
  }
  return function* () {
    for (const [index, line] of lines.entries()) {
      if (line.trim() === '') continue;
      yield payloadRow(index + 1, () => JSON.parse(line) as unknown);
    }
  };
}

function jsonArray(text: string, name: string): () => Iterable<ExportRow> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const firstLine = text.trimStart().split('\n', 1)[0]!;
    const jsonLinesToo = (() => {
      try {
        return isRecord(JSON.parse(firstLine));
      } catch {
        return false;
      }
    })();
    if (jsonLinesToo) throw new ExportError(`${name} holds one JSON object per line: name it .jsonl`);
    // V8's message quotes the text where it failed, line ends and all.
    const reason = (error as Error).message.replace(/\s+/g, ' ');
    throw new ExportError(`${name} is not JSON (${reason})${/^\s*[[{]/.test(text) ? '' : ': is it CSV? name it .csv'}`);
  }
  if (!Array.isArray(value)) {
    const kind = isRecord(value) ? 'a JSON object' : jsonKind(value);
    throw new ExportError(`${name} is ${kind}: a .json export is an array of objects (or use JSON Lines)`);
  }
  if (value.length === 0) throw new ExportError(`${name} is an empty array`);
  const elements = value;
  return function* () {
    for (const [index, element] of elements.entries()) yield payloadRow(index + 1, () => element);
  };
}

function payloadRow(row: number, read: () => unknown): ExportRow {
  let value: unknown;
  try {
    value = read();
  } catch {
    return { row, problem: 'is not JSON' };
  }
  return isRecord(value) ? { row, payload: value } : { row, problem: `is ${jsonKind(value)}, not a JSON object` };
}
