/**
 * Runs rules.test.yml cases: the functions bundled with the rules under test, the HelpCrunch
 * sandbox, the local Secrets Manager, the vendor API stand-ins (whatever the local stack starts),
 * exactly as `npm start` runs them. Each case resets the sandbox to its customers and empties the
 * ledger (so no case's events are duplicates of, or older than, another case's), sends its event
 * through the local host (a webhook signed with the source's scheme and demo secret, or an
 * EventBridge event), and reports what happened in the terms a case states its expectations in.
 */
import type { SandboxCustomer } from '../sandbox/customer-store';
import { startLocalStack, type LocalStack } from '../host/local-stack';
import { errorCodeOf, sendToHost } from '../host/send-event';
import { sandboxCustomer, type CaseExpectation, type RuleTestCase } from './cases';

/** What a case observed, in the shape of its expectation. */
export interface CaseObservation {
  status: number;
  error?: string;
  rules: string[];
  /** Ids of the customers the jobs named (found, whether or not their tags changed). */
  customers: number[];
  removed: string[];
  added: string[];
}

export interface CaseReport {
  /** The expectation, customers named by email or userId turned into ids. */
  expected: Partial<CaseObservation>;
  /** The observation, cut down to what the case expects. */
  actual: Partial<CaseObservation>;
  /** The job outcomes the functions logged, for the failure message. */
  jobs: unknown[];
  /** How a refused event was answered (status, code and message), for the failure message. */
  refused?: string;
}

export interface RuleTestRunner {
  run(testCase: RuleTestCase): Promise<CaseReport>;
  close(): Promise<void>;
}

// Settings that would send the functions to a real HelpCrunch or account instead of the stand-ins.
const REAL_TARGET = ['HELPCRUNCH_API_URL', 'HELPCRUNCH_API_KEY_SECRET_ID', 'DRY_RUN'];

/** The stack the cases of one rules file run against; inline dispatch, so every job is done when the reply comes. */
export async function startRuleTestRunner(
  rulesFile: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RuleTestRunner> {
  const lines: string[] = [];
  const stack = await startLocalStack({
    rulesFile,
    env: Object.fromEntries(Object.entries(env).filter(([name]) => !REAL_TARGET.includes(name))),
    dispatch: 'inline',
    logFormat: 'json',
    write: (text) => lines.push(...text.split('\n').filter(Boolean)),
  });
  const sandbox = stack.sandbox!;
  return {
    async run(testCase) {
      sandbox.reset(testCase.customers?.map(sandboxCustomer));
      await stack.dynamoDb.clear();
      lines.length = 0;
      const before = sandbox.customers();
      const { refused, ...reply } = await send(stack, testCase);
      const jobs = jobOutcomes(lines);
      const changes = tagChanges(before, sandbox.customers());
      const observed: CaseObservation = {
        ...reply,
        rules: [...new Set(jobs.map((job) => job.rule))].sort(),
        customers: foundCustomers(jobs),
        ...changes,
      };
      const expected = expectation(testCase.expect, before);
      const actual = pick(observed, Object.keys(expected) as (keyof CaseObservation)[]);
      return { expected, actual, jobs, ...(refused && { refused }) };
    },
    close: stack.close,
  };
}

/** The case's event through the host; a refused one names its code (an EventBridge rejection is Lambda's 500). */
async function send(
  stack: LocalStack,
  testCase: RuleTestCase,
): Promise<Pick<CaseObservation, 'status' | 'error'> & { refused?: string }> {
  if (testCase.trigger.kind === 'webhook' && !stack.rules.sources[testCase.trigger.source]) {
    throw new Error(
      `case "${testCase.name}": webhook source '${testCase.trigger.source}' is not in the rules under test`,
    );
  }
  const reply = await sendToHost(stack.hostUrl, stack.rules, testCase);
  if (reply.status < 400) return { status: reply.status };
  const error = errorCodeOf(reply);
  const message = (reply.body as { errors?: { message?: unknown }[] } | undefined)?.errors?.[0]?.message;
  const refused = [reply.status, error, typeof message === 'string' && message].filter(Boolean).join(' ');
  return { status: reply.status, ...(error && { error }), refused };
}

interface JobLine {
  rule: string;
  customerId: number | null;
  reason?: string;
}

/** The `job` of every job line the functions logged (Powertools JSON: message "job <status>"). */
function jobOutcomes(lines: string[]): (JobLine & Record<string, unknown>)[] {
  return lines.flatMap((line) => {
    try {
      const entry = JSON.parse(line) as { message?: unknown; job?: JobLine & Record<string, unknown> };
      return typeof entry.message === 'string' && entry.message.startsWith('job ') && entry.job ? [entry.job] : [];
    } catch {
      return [];
    }
  });
}

/** The customers the jobs found: a helpcrunchId that HelpCrunch does not know is named, but not found. */
function foundCustomers(jobs: JobLine[]): number[] {
  const ids = jobs.flatMap((job) =>
    typeof job.customerId === 'number' && job.reason !== 'customer_not_found' ? [job.customerId] : [],
  );
  return [...new Set(ids)].sort((a, b) => a - b);
}

function tagChanges(before: SandboxCustomer[], after: SandboxCustomer[]): Pick<CaseObservation, 'removed' | 'added'> {
  const removed = new Set<string>();
  const added = new Set<string>();
  for (const customer of after) {
    const was = new Set(before.find((old) => old.id === customer.id)?.tags.map((tag) => tag.name) ?? []);
    const is = new Set(customer.tags.map((tag) => tag.name));
    for (const name of was) if (!is.has(name)) removed.add(name);
    for (const name of is) if (!was.has(name)) added.add(name);
  }
  return { removed: [...removed].sort(), added: [...added].sort() };
}

/** The expectation in the observation's terms: lists sorted, customers as sandbox ids. */
function expectation(expect: CaseExpectation, customers: SandboxCustomer[]): Partial<CaseObservation> {
  const idOf = (reference: number | string) =>
    typeof reference === 'number'
      ? reference
      : (customers.find((c) => c.email === reference || c.userId === reference)?.id ?? reference);
  const status = expect.status ?? (expect.error === undefined ? 200 : undefined);
  return {
    ...(status !== undefined && { status }),
    ...(expect.error !== undefined && { error: expect.error }),
    ...(expect.rules && { rules: [...expect.rules].sort() }),
    ...(expect.customers && { customers: expect.customers.map(idOf).sort() as number[] }),
    ...(expect.removed && { removed: [...expect.removed].sort() }),
    ...(expect.added && { added: [...expect.added].sort() }),
  };
}

function pick<T extends object, K extends keyof T>(value: T, keys: K[]): Partial<T> {
  return Object.fromEntries(
    keys.filter((key) => key in value).map((key) => [key, value[key]]),
  ) as unknown as Partial<T>;
}
