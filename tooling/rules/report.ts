/** The problem list of a rules.yml validation, and the small readers every section shares. */

/** Collects the problems of one entity (a source or a rule) into the shared list. */
export class Report {
  /** Problems reported through this entity so far: a reader compares before/after its checks. */
  count = 0;
  constructor(
    private readonly entity: string,
    private readonly problems: string[],
  ) {}

  add(field: string, message: string): void {
    this.count += 1;
    this.problems.push(field ? `${this.entity}: ${field}: ${message}` : `${this.entity}: ${message}`);
  }
}

/** RFC 9110 token: what an HTTP header name may contain. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Secrets Manager name characters, plus ':' so a full ARN is accepted. */
export const SECRET_ID = /^[A-Za-z0-9/_+=.@:-]+$/;


export function readPattern(raw: unknown, pattern: RegExp, what: string, field: string, report: Report): string | undefined {
  if (typeof raw === 'string' && pattern.test(raw)) return raw;
  report.add(field, `must be ${what}`);
  return undefined;
}

/** Reports every key outside `allowed`. */
export function checkKeys(raw: Record<string, unknown>, allowed: readonly string[], report: Report, prefix = ''): void {
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) report.add(`${prefix}${key}`, unknownKey(key, allowed));
  }
}

/** Suggests the allowed key that differs only in case, the usual typo (`removetags`). */
export function unknownKey(key: string, allowed: readonly string[]): string {
  const near = allowed.find((name) => name.toLowerCase() === key.toLowerCase());
  return near ? `unknown key (did you mean ${near}?)` : `unknown key (expected ${allowed.join(', ')})`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
