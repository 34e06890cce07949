/**
 * rules.test.yml: a user's cases for their own rules. Each case sends one event (a webhook to a
 * source, or an EventBridge event) through the bundled functions against the local stand-ins,
 * and says what must happen: the rules that match, whose tags change and how, or the status and
 * error code of a refused event. Read and checked here, with problems naming the case and field.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { displayName, rulesFingerprint } from '../../tooling/rules/load';
import { isRecord } from '../../lib/json';
import { checkKeys, Findings, readNameList, type Report } from '../../tooling/rules/report';
import type { SandboxCustomer } from '../sandbox/customer-store';

/** A sandbox customer as a case writes it: tags by name. */
export interface CaseCustomer {
  id: number;
  email: string | null;
  userId: string | null;
  name: string | null;
  tags: string[];
}

export type CaseTrigger =
  | {
      kind: 'webhook';
      source: string;
      headers: Record<string, string>;
      /** Query parameters of the webhook URL, replacing the signature's (a `token` source's `query`). */
      query?: Record<string, string>;
      sign: boolean;
    }
  | { kind: 'eventbridge'; source: string; detailType: string };

export interface CaseExpectation {
  /**
   * The reply's status for webhooks; 200 for an EventBridge event the function resolved, 500 for
   * one it rejected. Default 200, unless `error` is given (then only the code is compared).
   */
  status?: number;
  /** The error code of a refused event. */
  error?: string;
  /** Names of the rules that matched (any order). */
  rules?: string[];
  /** The customers whose tags the event touches, by id, email or userId. */
  customers?: (number | string)[];
  /** Tags removed from and added to those customers, as the sandbox shows them afterwards. */
  removed?: string[];
  added?: string[];
}

export interface RuleTestCase {
  name: string;
  trigger: CaseTrigger;
  payload: unknown;
  /** The sandbox's customers for this case: its own, the file's, or (undefined) the demo customers. */
  customers?: CaseCustomer[];
  expect: CaseExpectation;
}

export interface RuleTestFile {
  path: string;
  /**
   * The fingerprint of the rules these cases were written for (the shipped example's): against
   * any other rules they are not run. A file without it is always run.
   */
  writtenFor?: string;
  /** The file's own `customers:`, which every case without its own starts from. */
  customers?: CaseCustomer[];
  cases: RuleTestCase[];
}

/** Every problem of one test file; the message lists them one per line. */
export class InvalidRuleTestsError extends Error {
  constructor(
    readonly problems: string[],
    origin: string,
  ) {
    super(
      `${origin} is invalid (${problems.length === 1 ? '1 problem' : `${problems.length} problems`}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'InvalidRuleTestsError';
  }
}

const FILE_KEYS = ['writtenFor', 'customers', 'cases'] as const;
const FINGERPRINT = /^sha256:[0-9a-f]{16}$/;
const CASE_KEYS = [
  'name',
  'webhook',
  'event',
  'headers',
  'query',
  'sign',
  'payload',
  'payloadFile',
  'customers',
  'expect',
] as const;
const EXPECT_KEYS = ['status', 'error', 'rules', 'customer', 'customers', 'removed', 'added'] as const;
const CUSTOMER_KEYS = ['id', 'email', 'userId', 'name', 'tags'] as const;

/** The rules a test file tests: the file beside it without `.test` (rules.test.yml -> rules.yml). */
export const rulesFileFor = (testFile: string) => testFile.replace(/\.test\.ya?ml$/, '.yml');

/** The rule tests of a rules file: rules.yml -> rules.test.yml, foo.yml -> foo.test.yml. */
export const ruleTestsFileFor = (rulesFile: string) => rulesFile.replace(/\.ya?ml$/, '.test.yml');

/** A case's customer as the sandbox keeps it (a tag created without a colour gets HelpCrunch's default). */
export function sandboxCustomer({ tags, ...customer }: CaseCustomer): SandboxCustomer {
  return { ...customer, tags: tags.map((name) => ({ name, color: '#c377e0' })) };
}

function readYamlFile(path: string, origin: string): unknown {
  try {
    return parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InvalidRuleTestsError([(error as Error).message], origin);
  }
}

export function loadRuleTests(path: string): RuleTestFile {
  const origin = displayName(path);
  const raw = readYamlFile(path, origin);
  const findings = new Findings();
  const top = findings.at('top level');
  if (!isRecord(raw)) throw new InvalidRuleTestsError(['top level: must be a mapping with `cases`'], origin);
  checkKeys(raw, FILE_KEYS, top);
  const { writtenFor } = raw;
  if (writtenFor !== undefined && (typeof writtenFor !== 'string' || !FINGERPRINT.test(writtenFor))) {
    top.add('writtenFor', 'must be a rules fingerprint as `npm run check-rules` prints it (sha256:<16 hex digits>)');
  }
  const shared = raw.customers === undefined ? undefined : readCustomers(raw.customers, top);
  const cases: RuleTestCase[] = [];
  if (!Array.isArray(raw.cases) || raw.cases.length === 0) top.add('cases', 'must be a list with at least one case');
  else {
    const names = new Set<string>();
    raw.cases.forEach((item, index) => {
      const name = isRecord(item) && typeof item.name === 'string' ? item.name : undefined;
      const report = findings.at(name ? `cases[${index}] "${name}"` : `cases[${index}]`);
      if (name !== undefined && names.has(name)) report.add('name', 'duplicate case name');
      if (name !== undefined) names.add(name);
      const testCase = readCase(item, dirname(path), report);
      if (testCase)
        cases.push({ ...testCase, ...(testCase.customers === undefined && shared && { customers: shared }) });
    });
  }
  if (findings.problems.length > 0) throw new InvalidRuleTestsError(findings.problems, origin);
  return { path, ...(typeof writtenFor === 'string' && { writtenFor }), ...(shared && { customers: shared }), cases };
}

/**
 * The top-level `customers:` of a YAML file, as a rule-test file writes them (tags by name),
 * checked as its cases would read them; the file's cases, if it has any, are not read. What
 * `npm start --customers` and `npm run invoke --customers` take besides the sandbox's JSON.
 */
export function loadCaseCustomers(path: string): CaseCustomer[] {
  const origin = displayName(path);
  const raw = readYamlFile(path, origin);
  const findings = new Findings();
  const top = findings.at('top level');
  if (!isRecord(raw) || raw.customers === undefined)
    top.add('customers', 'missing: a list of {id, email, userId, name, tags}');
  const customers = isRecord(raw) && raw.customers !== undefined ? readCustomers(raw.customers, top) : undefined;
  if (!customers) throw new InvalidRuleTestsError(findings.problems, origin);
  return customers;
}

/**
 * Why a test file's cases are not run against these rules: it was written for other ones (the
 * shipped example's rule tests once a user has replaced rules.yml). Undefined when they apply.
 */
export function writtenForOtherRules(file: RuleTestFile, rulesFile: string): string | undefined {
  if (file.writtenFor === undefined) return undefined;
  const fingerprint = rulesFingerprint(rulesFile);
  if (fingerprint === file.writtenFor) return undefined;
  return (
    `${displayName(file.path)} was written for other rules (writtenFor: ${file.writtenFor}; ${displayName(rulesFile)} is ${fingerprint}), ` +
    'so its cases are not run: write cases for your rules there and delete its writtenFor line (README, "Rule tests")'
  );
}

function readCase(raw: unknown, baseDir: string, report: Report): RuleTestCase | undefined {
  if (!isRecord(raw)) {
    report.add('', 'must be a mapping with name, webhook or event, payload and expect');
    return undefined;
  }
  const before = report.count;
  checkKeys(raw, CASE_KEYS, report);
  if (typeof raw.name !== 'string' || raw.name.trim() === '') report.add('name', 'is required');
  const trigger = readTrigger(raw, report);
  const payload = readPayload(raw, baseDir, report);
  const customers = raw.customers === undefined ? undefined : readCustomers(raw.customers, report);
  const expectation = readExpectation(raw.expect, report);
  if (report.count > before) return undefined;
  return {
    name: raw.name as string,
    trigger: trigger!,
    payload,
    ...(customers && { customers }),
    expect: expectation!,
  };
}

function readTrigger(raw: Record<string, unknown>, report: Report): CaseTrigger | undefined {
  if ((raw.webhook === undefined) === (raw.event === undefined)) {
    report.add('', 'needs exactly one of `webhook: <source>` or `event: {source, detailType}`');
    return undefined;
  }
  if (raw.webhook !== undefined) {
    if (typeof raw.webhook !== 'string' || raw.webhook === '') report.add('webhook', 'must name a source of rules.yml');
    const headers = raw.headers === undefined ? {} : readStrings(raw.headers, 'headers', 'header name', report);
    const query = raw.query === undefined ? undefined : readStrings(raw.query, 'query', 'query parameter', report);
    if (raw.sign !== undefined && typeof raw.sign !== 'boolean') report.add('sign', 'must be true or false');
    if (typeof raw.webhook !== 'string' || !headers || (raw.query !== undefined && !query)) return undefined;
    return { kind: 'webhook', source: raw.webhook, headers, ...(query && { query }), sign: raw.sign !== false };
  }
  for (const key of ['headers', 'query', 'sign'] as const)
    if (raw[key] !== undefined) report.add(key, 'applies to webhooks only');
  if (!isRecord(raw.event) || typeof raw.event.source !== 'string' || typeof raw.event.detailType !== 'string') {
    report.add('event', 'must be {source: <EventBridge source>, detailType: <detail-type>}');
    return undefined;
  }
  checkKeys(raw.event, ['source', 'detailType'], report, 'event.');
  return { kind: 'eventbridge', source: raw.event.source, detailType: raw.event.detailType };
}

function readStrings(raw: unknown, field: string, what: string, report: Report): Record<string, string> | undefined {
  if (!isRecord(raw) || !Object.values(raw).every((value) => typeof value === 'string')) {
    report.add(field, `must be a mapping of ${what} to string value`);
    return undefined;
  }
  return raw as Record<string, string>;
}

/** Inline (`payload`), or a JSON file (`payloadFile`, relative to the test file), e.g. a vendor's sample. */
function readPayload(raw: Record<string, unknown>, baseDir: string, report: Report): unknown {
  if ((raw.payload === undefined) === (raw.payloadFile === undefined)) {
    report.add('', 'needs exactly one of `payload` (inline) or `payloadFile` (a JSON file)');
    return undefined;
  }
  if (raw.payload !== undefined) return raw.payload;
  if (typeof raw.payloadFile !== 'string') {
    report.add('payloadFile', 'must be a path relative to the test file');
    return undefined;
  }
  const file = resolve(baseDir, raw.payloadFile);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (error) {
    report.add(
      'payloadFile',
      `cannot read ${raw.payloadFile} as JSON (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
    return undefined;
  }
}

function readCustomers(raw: unknown, report: Report): CaseCustomer[] | undefined {
  if (!Array.isArray(raw)) {
    report.add('customers', 'must be a list of {id, email, userId, name, tags}');
    return undefined;
  }
  const before = report.count;
  const ids = new Set<number>();
  const customers = raw.map((entry, index): CaseCustomer | undefined => {
    const field = `customers[${index}]`;
    if (!isRecord(entry)) {
      report.add(field, 'must be a mapping');
      return undefined;
    }
    checkKeys(entry, CUSTOMER_KEYS, report, `${field}.`);
    const { id } = entry;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1)
      report.add(`${field}.id`, 'must be a positive whole number');
    else if (ids.has(id)) report.add(`${field}.id`, `repeats ${id}`);
    else ids.add(id);
    const text = (key: 'email' | 'userId' | 'name') => {
      const value = entry[key];
      if (value === undefined || value === null) return null;
      if (typeof value !== 'string') report.add(`${field}.${key}`, 'must be a string');
      return typeof value === 'string' ? value : null;
    };
    const tags =
      entry.tags === undefined
        ? []
        : readNameList(entry.tags, `${field}.tags`, report, { single: false, allowEmpty: true });
    return { id: id as number, email: text('email'), userId: text('userId'), name: text('name'), tags: tags ?? [] };
  });
  return report.count > before ? undefined : (customers as CaseCustomer[]);
}

function readExpectation(raw: unknown, report: Report): CaseExpectation | undefined {
  if (!isRecord(raw)) {
    report.add('expect', 'is required: {rules, customer(s), removed, added} or {status, error}');
    return undefined;
  }
  checkKeys(raw, EXPECT_KEYS, report, 'expect.');
  const before = report.count;
  const { status } = raw;
  if (
    status !== undefined &&
    (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599)
  ) {
    report.add('expect.status', 'must be an HTTP status');
  }
  if (raw.error !== undefined && typeof raw.error !== 'string')
    report.add('expect.error', 'must be an error code, e.g. invalid_customer');
  if (raw.customer !== undefined && raw.customers !== undefined)
    report.add('expect.customer', 'give customer or customers, not both');
  const list = (key: 'rules' | 'removed' | 'added') =>
    raw[key] === undefined
      ? undefined
      : readNameList(raw[key], `expect.${key}`, report, { single: true, allowEmpty: true });
  const rules = list('rules');
  const removed = list('removed');
  const added = list('added');
  const customerList = raw.customers ?? (raw.customer === undefined ? undefined : [raw.customer]);
  if (
    customerList !== undefined &&
    (!Array.isArray(customerList) ||
      !customerList.every((c) => typeof c === 'number' || (typeof c === 'string' && c !== '')))
  ) {
    report.add(
      raw.customers === undefined ? 'expect.customer' : 'expect.customers',
      'must be customer ids, emails or userIds',
    );
  }
  if (report.count > before) return undefined;
  return {
    ...(status !== undefined && { status: status as number }),
    ...(raw.error !== undefined && { error: raw.error as string }),
    ...(rules && { rules }),
    ...(customerList !== undefined && { customers: customerList as (number | string)[] }),
    ...(removed && { removed }),
    ...(added && { added }),
  };
}
