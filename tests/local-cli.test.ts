/** Flags and environment variables of `npm start` and `npm run demo`, including the sandbox's. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDemoArgs, parseStartArgs, START_HELP } from '../local/host/cli';
import { PROJECT_ROOT } from '../local/host/serverless-config';
import { sandboxOptionsFromCli, UsageError } from '../local/sandbox/cli-options';

describe('parseStartArgs', () => {
  it("defaults to host port 3000, sandbox port 4010, SQS port 4020, DynamoDB port 4021, a free Secrets Manager port, serverless.yml's dispatch, readable logs", () => {
    expect(parseStartArgs([], {})).toEqual({
      env: {},
      rulesFile: join(PROJECT_ROOT, 'rules.yml'),
      port: 3000,
      secretsManagerPort: 0,
      sqsPort: 4020,
      dynamoDbPort: 4021,
      dispatch: undefined,
      sandbox: { port: 4010, faults: {} },
      timeoutsMs: { webhook: undefined, eventbridge: undefined },
      logFormat: 'readable',
    });
  });

  it('takes another rules file from --rules or RULES_FILE', () => {
    expect(parseStartArgs(['--rules', 'tests/x.yml'], {})).toMatchObject({ rulesFile: resolve('tests/x.yml') });
    expect(parseStartArgs([], { RULES_FILE: 'y.yml' })).toMatchObject({ rulesFile: resolve('y.yml') });
  });

  it('reads every setting from its flag, or else its environment variable', () => {
    const env = {
      PORT: '3100',
      SANDBOX_PORT: '4100',
      SANDBOX_RATE_LIMIT: '30',
      WEBHOOK_TIMEOUT_SECONDS: '10',
      LOG_FORMAT: 'json',
      SQS_PORT: '4120',
    };
    const args = [
      '--port',
      '3200',
      '--secrets-port',
      '4566',
      '--eventbridge-timeout',
      '2.5',
      '--fault-429',
      '0.25',
      '--retry-after',
      '3',
      '--dispatch',
      'inline',
    ];

    expect(parseStartArgs(args, env)).toMatchObject({
      port: 3200,
      secretsManagerPort: 4566,
      sqsPort: 4120,
      dispatch: 'inline',
      sandbox: { port: 4100, rateLimit: { requests: 30, windowMs: 60_000 }, faults: { rate429: 0.25, retryAfter: 3 } },
      timeoutsMs: { webhook: 10_000, eventbridge: 2_500 },
      logFormat: 'json',
    });
    expect(parseStartArgs(['--json-logs'], {})?.logFormat).toBe('json');
  });

  it('--dry-run runs the functions dry; without it the environment’s DRY_RUN reaches them as it is', () => {
    expect(parseStartArgs(['--dry-run'], {})).toMatchObject({ dryRun: true });
    expect(parseStartArgs([], {})).not.toHaveProperty('dryRun');
    expect(parseStartArgs([], { DRY_RUN: 'true' })).toMatchObject({ env: { DRY_RUN: 'true' } });
    expect(START_HELP).toMatch(/--dry-run +DRY_RUN=true +everything runs but HelpCrunch writes/);
  });

  it('treats an empty variable as unset', () => {
    expect(parseStartArgs([], { PORT: '', SANDBOX_FAULT_5XX: ' ' })).toMatchObject({
      port: 3000,
      sandbox: { faults: {} },
    });
  });

  it.each([
    [['--port', '70000'], {}, "--port (or PORT) must be a port 0-65535, got '70000'"],
    [[], { SANDBOX_FAULT_5XX: '2' }, "--fault-5xx (or SANDBOX_FAULT_5XX) must be a probability 0-1, got '2'"],
    [['--rate-limit', '0'], {}, '--rate-limit (or SANDBOX_RATE_LIMIT) must be requests per minute, 1 or more'],
    [['--retry-after', 'soon'], {}, "must be seconds or 'none', got 'soon'"],
    [['--latency-ms=-5'], {}, '--latency-ms (or SANDBOX_LATENCY_MS) must be milliseconds'],
    [['--webhook-timeout', '0'], {}, '--webhook-timeout (or WEBHOOK_TIMEOUT_SECONDS) must be seconds, up to 900'],
    [['--dispatch', 'queued'], {}, "--dispatch (or DISPATCH) must be inline or queue, got 'queued'"],
    [[], { SQS_PORT: 'x' }, "--sqs-port (or SQS_PORT) must be a port 0-65535, got 'x'"],
    [['--bogus'], {}, "Unknown option '--bogus'"],
  ])('rejects %j %j with a UsageError naming the flag and variable', (args, env, message) => {
    expect(() => parseStartArgs(args, env)).toThrow(UsageError);
    expect(() => parseStartArgs(args, env)).toThrow(message);
  });

  it('answers --help with undefined, and the help names every flag and variable', () => {
    expect(parseStartArgs(['--help'], {})).toBeUndefined();
    for (const name of [
      '--port',
      'PORT',
      '--sandbox-port',
      'SANDBOX_PORT',
      '--dispatch',
      'DISPATCH',
      '--sqs-port',
      'SQS_PORT',
      '--rate-limit',
      '--fault-429',
      '--fault-5xx',
      '--fault-drop',
      '--latency-ms',
      '--retry-after',
      '--customers',
      '--json-logs',
      'HELPCRUNCH_API_URL',
    ]) {
      expect(START_HELP).toContain(name);
    }
  });
});

describe('npm start --customers, as npm run invoke --customers takes it', () => {
  const customer = { id: 7, email: 'x@example.com', userId: null, name: 'X' };
  const withFile = async (name: string, text: string, check: (file: string) => void) => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbox-cli-'));
    try {
      await writeFile(join(dir, name), text);
      check(join(dir, name));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  const seeded = (file: string, env: NodeJS.ProcessEnv = {}) =>
    parseStartArgs(env.SANDBOX_CUSTOMERS ? [] : ['--customers', file], env)!.sandbox!.customers;

  it('takes the sandbox JSON (tags with colours), checked like the demo file', async () => {
    await withFile(
      'customers.json',
      JSON.stringify([{ ...customer, tags: [{ name: 'VIP', color: '#000' }] }]),
      (file) => expect(seeded(file)).toEqual([{ ...customer, tags: [{ name: 'VIP', color: '#000' }] }]),
    );
    await withFile('customers.json', JSON.stringify([{ id: 'seven' }]), (file) =>
      expect(() => seeded(file, { SANDBOX_CUSTOMERS: file })).toThrow('customer #0 needs a positive integer id'),
    );
  });

  it('takes a rule-test file’s top-level customers (tags by name), as invoke does, or a file with only them', async () => {
    const customers = 'customers:\n  - { id: 7, email: x@example.com, name: X, tags: [VIP] }\n';
    const sandboxCustomer = { ...customer, tags: [{ name: 'VIP', color: expect.any(String) }] };
    await withFile('rules.test.yml', `${customers}cases:\n  - name: c\n    event: x\n`, (file) =>
      expect(seeded(file)).toEqual([sandboxCustomer]),
    );
    await withFile('customers.yml', customers, (file) => expect(seeded(file)).toEqual([sandboxCustomer]));
  });

  it('names the file and the field of a customer it cannot take, and a YAML file without customers', async () => {
    await withFile('customers.yml', 'customers:\n  - { id: 0, tags: VIP }\n', (file) =>
      expect(() => seeded(file)).toThrow(
        /customers\.yml is invalid.*\n.*customers\[0\]\.id: must be a positive whole number/,
      ),
    );
    await withFile('customers.yml', 'cases: []\n', (file) =>
      expect(() => seeded(file)).toThrow(/customers\.yml is invalid.*\n.*customers: missing/),
    );
  });
});

describe('sandboxOptionsFromCli', () => {
  it('passes every fault setting through', () => {
    const env = {
      SANDBOX_FAULT_429: '0.1',
      SANDBOX_FAULT_5XX: '0.2',
      SANDBOX_FAULT_DROP: '0.3',
      SANDBOX_LATENCY_MS: '40',
      SANDBOX_RETRY_AFTER: 'none',
    };

    expect(sandboxOptionsFromCli({}, env).faults).toEqual({
      rate429: 0.1,
      rate5xx: 0.2,
      dropRate: 0.3,
      latencyMs: 40,
      retryAfter: 'none',
    });
  });
});

describe('parseDemoArgs', () => {
  it('points at the default ports, or the given ones, and resets unless --no-reset', () => {
    const rulesFile = join(PROJECT_ROOT, 'rules.yml');
    expect(parseDemoArgs([], {})).toEqual({
      rulesFile,
      hostUrl: 'http://127.0.0.1:3000',
      sandboxUrl: 'http://127.0.0.1:4010',
      sqsUrl: 'http://127.0.0.1:4020',
      reset: true,
    });
    expect(
      parseDemoArgs(['--port', '3100', '--no-reset', '--sqs-port', '4120', '--rules', 'other.yml'], {
        SANDBOX_PORT: '4100',
      }),
    ).toEqual({
      rulesFile: resolve('other.yml'),
      hostUrl: 'http://127.0.0.1:3100',
      sandboxUrl: 'http://127.0.0.1:4100',
      sqsUrl: 'http://127.0.0.1:4120',
      reset: false,
    });
  });
});
