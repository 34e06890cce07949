/**
 * The sample events (the rule tests' cases that change tags, local/host/samples.ts) against the
 * local stack in queue mode, as deployed: the banner's curl commands work as printed, and
 * `npm run demo` shows the tags go once the queue has drained. Runs the suite's fixture rules.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { banner } from '../local/host/banner';
import { DemoUnreachableError, runDemo, tagsTable } from '../local/host/demo';
import { startLocalStack, type LocalStack } from '../local/host/local-stack';
import { loadSamples } from '../local/host/samples';
import { ruleTestsFileFor } from '../local/rule-tests/cases';
import { loadRulesFile, rulesFingerprint } from '../tooling/rules/load';

const run = promisify(execFile);
const rulesFile = join(import.meta.dirname, 'fixtures/rules/suite.yml');
const rules = loadRulesFile(rulesFile);
const samples = loadSamples(rulesFile, rules);

let stack: LocalStack;

beforeAll(async () => {
  // No batching window: the worker takes each job as soon as it is queued.
  stack = await startLocalStack({ env: {}, rulesFile, write: () => undefined });
});

afterAll(() => stack?.close());

beforeEach(() => stack.sandbox!.reset());

const tagsOf = (id: number) => stack.sandbox!.customer(id)?.tags.map((tag) => tag.name);

describe('loadSamples', () => {
  it("takes the rule tests' accepted, signed cases that change the demo customers' tags, one per rule", () => {
    expect(ruleTestsFileFor(rulesFile)).toBe(join(import.meta.dirname, 'fixtures/rules/suite.test.yml'));
    expect(samples.fromRuleTests).toBe(true);
    expect(samples.samples.map(({ title, trigger }) => [title, trigger.kind, trigger.source])).toEqual([
      ["a lost deal removes Ada's lead tags", 'webhook', 'crm'],
      ["a cancelled subscription removes Grace's Subscriber", 'webhook', 'billing'],
      ['a Stripe subscription ended, the customer found through the Stripe lookup', 'webhook', 'stripe'],
      ["an EventBridge cancellation removes Katherine's Subscriber", 'eventbridge', 'billing.app'],
    ]);
  });

  it('without rule tests, gives one empty event per source, saying so', () => {
    const placeholders = loadSamples(
      join(import.meta.dirname, 'fixtures/rules/package.yml'),
      loadRulesFile(join(import.meta.dirname, 'fixtures/rules/package.yml')),
    );
    expect(placeholders.fromRuleTests).toBe(false);
    expect(placeholders.samples.map(({ trigger, payload }) => [trigger.kind, trigger.source, payload])).toEqual([
      ['webhook', 'crm', {}],
      ['webhook', 'billing', {}],
      ['webhook', 'stripe', {}],
      ['eventbridge', 'billing.app', {}],
      ['eventbridge', 'crm.app', {}],
      ['eventbridge', 'aws.partner/stripe.com/ed_test', {}],
    ]);
  });

  it('gives placeholders when every case brings customers of its own: nothing to try on the demo customers', () => {
    const ownCustomers = join(import.meta.dirname, 'fixtures/ci-rules/rules.yml');
    const own = loadSamples(ownCustomers, loadRulesFile(ownCustomers));
    expect(own.fromRuleTests).toBe(false);
    expect(own.samples.map(({ trigger, payload }) => [trigger.kind, trigger.source, payload])).toEqual([
      ['webhook', 'shop', {}],
      ['webhook', 'support', {}],
      ['eventbridge', 'acme.accounts', {}],
    ]);
  });

  it('takes the rule tests only while the rules are the ones they were written for, else placeholders', () => {
    const dir = mkdtempSync(join(tmpdir(), 'samples-'));
    const copy = join(dir, 'rules.yml');
    copyFileSync(rulesFile, copy);
    const cases = readFileSync(ruleTestsFileFor(rulesFile), 'utf8');
    const pinnedTo = (fingerprint: string) => {
      writeFileSync(join(dir, 'rules.test.yml'), `writtenFor: ${fingerprint}\n${cases}`);
      return loadSamples(copy, rules);
    };
    expect(pinnedTo(rulesFingerprint(rulesFile))).toEqual(samples);
    const replaced = pinnedTo('sha256:0123456789abcdef');
    expect(replaced.fromRuleTests).toBe(false);
    expect(replaced.samples.map(({ trigger, payload }) => [trigger.kind, trigger.source, payload])).toEqual([
      ['webhook', 'crm', {}],
      ['webhook', 'billing', {}],
      ['webhook', 'stripe', {}],
      ['eventbridge', 'billing.app', {}],
      ['eventbridge', 'crm.app', {}],
      ['eventbridge', 'payments.app', {}],
      ['eventbridge', 'suite.marker', {}],
    ]);
  });

  it('points every lookup at the vendor stand-ins, with a demo secret they accept', () => {
    expect(stack.secrets['helpcrunch-untag/stripe-api-key']).toBe(stack.vendorApis!.keys.stripe);
  });
});

const hasShellTools = ['/bin/sh', '/usr/bin/curl', '/usr/bin/openssl'].every((tool) => existsSync(tool));
if (!hasShellTools)
  console.warn('[local-examples] curl or openssl missing: skipping the test that runs the banner commands');

describe('the banner', () => {
  /** The command blocks under the `# <sample>` comments. */
  function commands(text: string): { name: string; command: string }[] {
    return text
      .split('\n\n')
      .filter((block) => block.startsWith('  # '))
      .map((block) => {
        const [comment, ...lines] = block.split('\n');
        return { name: comment!.slice(4).replace(/ \(\S+ webhook, \S+\)$/, ''), command: lines.join('\n') };
      });
  }

  it('names every address and the demo command', () => {
    const text = banner(stack, samples);

    expect(text).toContain(stack.hostUrl);
    expect(text).toContain(stack.sandbox!.url);
    expect(text).toContain(stack.secretsManager!.url);
    expect(text).toContain(`DynamoDB            ${stack.dynamoDb.url}`);
    expect(text).toContain('helpcrunch-untag-local-ledger');
    expect(text).toMatch(/Vendor APIs +http:\/\/127\.0\.0\.1:\d+ +Stripe, Paddle, Pipedrive and HubSpot stand-ins/);
    expect(text).toContain(
      '# a Stripe subscription ended, the customer found through the Stripe lookup (stripe webhook, stripe)',
    );
    expect(text).toContain('Try the events of your rule tests');
    expect(text).not.toContain('Dry run');
    expect(text).toMatch(
      /SQS +http:\/\/127\.0\.0\.1:\d+ +the FIFO jobs queue \(a group per customer\) and its dead-letter queue/,
    );
    expect(text).toContain('Dispatch: queue, as deployed');
    // The page, told where the local SQS is, shows the queues too.
    expect(text).toContain(`${stack.sandbox!.url.replace(/v1$/, '')}?sqs=${stack.queue!.sqs.url}`);
    expect(text).toContain(
      `npm run demo -- --port ${new URL(stack.hostUrl).port} --sandbox-port ${stack.sandbox!.port} --sqs-port ${stack.queue!.sqs.port}`,
    );
  });

  it('without rule tests for the rules, says so and offers no demo, which would refuse', () => {
    const text = banner(stack, { samples: [], fromRuleTests: false });

    expect(text).toContain(
      'No rule tests for these rules that change the demo customers\' tags (README, "Rule tests")',
    );
    expect(text).not.toContain('npm run demo');
    expect(text).toContain('Ctrl-C stops everything.');
  });

  it.skipIf(!hasShellTools)('prints one command per sample that works as pasted into a shell', async () => {
    const printed = commands(banner(stack, samples));
    expect(printed.map(({ name }) => name)).toEqual(samples.samples.map(({ title }) => title));

    for (const { name, command } of printed) {
      const { stdout } = await run('/bin/sh', ['-c', command]);
      expect(JSON.parse(stdout), name).toEqual({ queued: 1 });
    }
    await expect
      .poll(() => [tagsOf(1001), tagsOf(1002), tagsOf(1004)], { timeout: 20_000 })
      .toEqual([[], ['VIP', 'Churned'], ['Lead', 'VIP']]);
  });
});

describe('runDemo (npm run demo)', () => {
  // A stack of its own: the banner's commands above sent these very events outside a reset.
  let demoStack: LocalStack;
  beforeAll(async () => {
    demoStack = await startLocalStack({ env: {}, rulesFile, write: () => undefined });
  });
  afterAll(() => demoStack?.close());

  it('resets the sandbox, sends every sample and shows the tags before and after', async () => {
    // Changed beforehand, so the table can only show the demo tags if the demo reset the sandbox.
    await fetch(`${demoStack.sandbox!.url}/customers/1001/tags`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${demoStack.sandbox!.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tags: [{ name: 'Lead' }] }),
    });
    let output = '';
    const sandboxUrl = demoStack.sandbox!.url.replace(/\/v1$/, '');

    const accepted = await runDemo(
      { rulesFile, hostUrl: demoStack.hostUrl, sandboxUrl, sqsUrl: demoStack.queue!.sqs.url, reset: true },
      samples.samples,
      rules,
      (text) => (output += text),
    );

    expect(accepted).toBe(true);
    expect(output).toContain('Sandbox reset to the demo customers.');
    expect(output).toContain("  a lost deal removes Ada's lead tags\n    202 queued 1 job\n");
    expect(output).toContain("  an EventBridge cancellation removes Katherine's Subscriber\n    200 queued 1 job\n");
    // Read once the worker has taken every job: the table shows them all done.
    expect(demoStack.queue!.sqs.model.depth(demoStack.queue!.jobsQueueUrl)).toEqual({
      visible: 0,
      inFlight: 0,
      delayed: 0,
    });
    expect(output).toMatch(/1001 Ada Lovelace +Lead, Trial user +— +removed Lead, Trial user/);
    expect(output).toContain(
      '  a Stripe subscription ended, the customer found through the Stripe lookup\n    202 queued 1 job\n',
    );
    expect(output).toMatch(/1002 Grace Hopper +Subscriber, VIP +VIP, Churned +removed Subscriber; added Churned/);
    expect(output).toMatch(/1004 Katherine Johnson +Lead, Subscriber, VIP +Lead, VIP +removed Subscriber/);
    expect(output).toMatch(/1003 Alan Turing +Trial user +Trial user\n/);
    expect(output).toContain(`Live view: ${sandboxUrl}/?sqs=${demoStack.queue!.sqs.url}\n`);

    // Again at once: the reset also empties the ledger and the queue's deduplication window, so the
    // same samples are new events again rather than duplicates.
    let again = '';
    await runDemo(
      { rulesFile, hostUrl: demoStack.hostUrl, sandboxUrl, sqsUrl: demoStack.queue!.sqs.url, reset: true },
      samples.samples,
      rules,
      (text) => (again += text),
    );
    expect(again).toMatch(/1001 Ada Lovelace +Lead, Trial user +— +removed Lead, Trial user/);
    expect(again).toMatch(/1002 Grace Hopper +Subscriber, VIP +VIP, Churned +removed Subscriber; added Churned/);
  });

  it('says how to start the stack when nothing answers', async () => {
    // A port that was free a moment ago: nothing listens there.
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const closedUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await new Promise((resolve) => server.close(resolve));

    const demo = runDemo(
      { rulesFile, hostUrl: closedUrl, sandboxUrl: closedUrl, sqsUrl: closedUrl, reset: true },
      samples.samples,
      rules,
      () => undefined,
    );

    await expect(demo).rejects.toThrow(DemoUnreachableError);
    await expect(demo).rejects.toThrow('npm start');
  });
});

describe('runDemo against a queue it cannot see', () => {
  it('says to pass the local SQS port when the webhooks queued jobs but no SQS answers', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const closedUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await new Promise((resolve) => server.close(resolve));
    const sandboxUrl = stack.sandbox!.url.replace(/\/v1$/, '');

    const demo = runDemo(
      { rulesFile, hostUrl: stack.hostUrl, sandboxUrl, sqsUrl: closedUrl, reset: true },
      samples.samples,
      rules,
      () => undefined,
    );

    await expect(demo).rejects.toThrow(DemoUnreachableError);
    await expect(demo).rejects.toThrow(`no local SQS with the jobs queue answers at ${closedUrl}. Pass the --sqs-port`);
  });
});

describe('tagsTable', () => {
  const ada = { id: 1, email: null, userId: null, name: 'Ada', tags: [{ name: 'Lead', color: '#000' }] };

  it('lists only changed customers when asked, and nothing when none changed', () => {
    const bob = { ...ada, id: 2, name: 'Bob' };
    const table = tagsTable([ada, bob], [{ ...ada, tags: [] }, bob], { onlyChanged: true });

    expect(table).toContain('1 Ada');
    expect(table).not.toContain('2 Bob');
    expect(tagsTable([ada], [ada], { onlyChanged: true })).toBe('');
  });
});
