/**
 * Reads and validates a rules.yml file. Build time and dev tooling only: the runtime gets the
 * validated config as JSON from the bundler plugins, so `yaml` never ships in the Lambda.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { LineCounter, parse, parseDocument } from 'yaml';
import { ConfigError } from '../../lib/errors';
import type { RulesConfig } from '../../lib/rules/types';
import { InvalidRulesError, validateRules, type ValidatedRules } from './validate';

export function loadRulesFile(path: string): RulesConfig {
  return loadRules(path).config;
}

/** The validated config and the validator's warnings (check-rules prints them). */
export function loadRules(path: string): ValidatedRules {
  const name = displayName(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(`${name}: cannot read rules file (${reason})`, 'invalid_rules');
  }

  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (document.errors.length > 0) {
    throw new InvalidRulesError(
      document.errors.map((error) => {
        const { line, col } = lines.linePos(error.pos[0]);
        return `line ${line}, column ${col}: YAML syntax error: ${error.message}`;
      }),
      name,
    );
  }

  try {
    return validateRules(document.toJS());
  } catch (error) {
    if (error instanceof InvalidRulesError) throw new InvalidRulesError(error.problems, name);
    throw error;
  }
}

/**
 * What a rules file says, as a short hash: its YAML as data, keys in any order, so comments and
 * layout do not count. A rule-test file's `writtenFor` holds the one of the rules it was written
 * for (local/rule-tests/cases.ts); `npm run check-rules` prints it.
 */
export function rulesFingerprint(path: string): string {
  const data: unknown = parse(readFileSync(path, 'utf8'));
  return `sha256:${createHash('sha256').update(canonicalJson(data)).digest('hex').slice(0, 16)}`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The ES module a bundler emits for an imported rules file: the validated config as JSON. */
export function rulesModuleSource(path: string): string {
  return `export default ${JSON.stringify(loadRulesFile(path))};\n`;
}

/** Paths inside the working directory are shown relative, the way a person would type them. */
export function displayName(path: string): string {
  const fromCwd = relative(process.cwd(), path);
  return fromCwd && !fromCwd.startsWith('..') ? fromCwd : path;
}
