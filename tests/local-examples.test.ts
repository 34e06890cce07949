/**
 * The shipped examples against the local stack in queue mode, as deployed: they match rules.yml,
 * the banner's curl commands work as printed, and `npm run demo` shows the tags go once the queue
 * has drained (and at once in inline mode).
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { banner } from '../local/host/banner';
import { DemoUnreachableError, runDemo, tagsTable } from '../local/host/demo';
import { loadExamples, type Example } from '../local/host/examples';
import { startLocalStack, type LocalStack } from '../local/host/local-stack';
import { PROJECT_ROOT } from '../local/host/serverless-config';
import { loadRulesFile } from '../tooling/rules/load';
import { verifyWebhook } from '../lib/webhook-auth';

const run = promisify(execFile);
const rules = loadRulesFile(join(PROJECT_ROOT, 'rules.yml'));
const examples = loadExamples();
const byName = (name: string) => examples.find((example) => example.name === name)!;

let stack: LocalStack;

beforeAll(async () => {
  // No batching window: the worker takes each job as soon as it is queued.
  stack = await startLocalStack({ env: {}, batchingWindowMs: 0, write: () => undefined });
});

afterAll(() => stack?.close());

beforeEach(() => stack.sandbox!.reset());

const tagsOf = (id: number) => stack.sandbox!.customer(id)?.tags.map((tag) => tag.name);

describe('examples/', () => {
  it('ships a CRM deal-lost, a billing and a Stripe subscription webhook, and a direct EventBridge event', () => {
    expect(examples.map(({ name, kind, rule }) => [name, kind, rule.name])).toEqual([
      ['billing-subscription-cancelled', 'webhook', 'subscription-cancelled'],
      ['crm-deal-lost', 'webhook', 'deal-lost'],
      ['eventbridge-subscription-cancelled', 'eventbridge', 'churned'],
      ['stripe-customer-subscription-deleted', 'webhook', 'stripe-subscription-ended'],
    ]);
  });

  it.each(examples.map((example) => [example.name, example] as const))('%s: its rules.yml entries are the ones rules.yml ships', (_, example) => {
    for (const rule of example.rules.rules) expect(rules.rules.find(({ name }) => name === rule.name)).toEqual(rule);
    for (const [name, source] of Object.entries(example.rules.sources)) expect(rules.sources[name]).toEqual(source);
    for (const [name, lookup] of Object.entries(example.rules.lookups)) expect(rules.lookups[name]).toEqual(lookup);
  });

  it('points every lookup of rules.yml at the vendor stand-ins, with a demo secret they accept', () => {
    expect(Object.keys(rules.lookups)).not.toHaveLength(0);
    for (const lookup of Object.values(rules.lookups)) expect(stack.secrets[lookup.secretId]).toBeDefined();
    expect(stack.secrets['helpcrunch-untag/stripe-api-key']).toBe(stack.vendorApis!.keys.stripe);
  });

  it('crm-deal-lost carries a signature the demo secret verifies, so `npm run invoke` takes it as it is', () => {
    const { event } = byName('crm-deal-lost') as Extract<Example, { kind: 'webhook' }>;
    const { verify } = rules.sources.crm!;
    const request = { method: 'POST', url: undefined, headers: event.headers as Record<string, string>, rawBody: Buffer.from(event.body!) };

    expect(() => verifyWebhook(verify, request, stack.secrets['helpcrunch-untag/crm-webhook'])).not.toThrow();
  });
});

const hasShellTools = ['/bin/sh', '/usr/bin/curl', '/usr/bin/openssl'].every((tool) => existsSync(tool));
if (!hasShellTools) console.warn('[local-examples] curl or openssl missing: skipping the test that runs the banner commands');

describe('the banner', () => {
  /** The command blocks under the `# <example>` comments. */
  function commands(text: string): { name: string; command: string }[] {
    return text
      .split('\n\n')
      .filter((block) => block.startsWith('  # '))
      .map((block) => {
        const [comment, ...lines] = block.split('\n');
        return { name: comment!.slice(4).split(':')[0]!, command: lines.join('\n') };
      });
  }

  it('names every address and the demo command', () => {
    const text = banner(stack, examples);

    expect(text).toContain(stack.hostUrl);
    expect(text).toContain(stack.sandbox!.url);
    expect(text).toContain(stack.secretsManager!.url);
    expect(text).toMatch(/Vendor APIs +http:\/\/127\.0\.0\.1:\d+ +Stripe, Paddle, Pipedrive and HubSpot stand-ins/);
    expect(text).toContain('# stripe-customer-subscription-deleted: rule stripe-subscription-ended removes Subscriber, adds Churned, customer by lookup stripe (stripe webhook, stripe)');
    expect(text).not.toContain('Dry run');
    expect(text).toMatch(/SQS +http:\/\/127\.0\.0\.1:\d+ +the jobs queue and its dead-letter queue/);
    expect(text).toContain('Dispatch: queue, as deployed');
    // The page, told where the local SQS is, shows the queues too.
    expect(text).toContain(`${stack.sandbox!.url.replace(/v1$/, '')}?sqs=${stack.queue!.sqs.url}`);
    expect(text).toContain(`npm run demo -- --port ${new URL(stack.hostUrl).port} --sandbox-port ${stack.sandbox!.port} --sqs-port ${stack.queue!.sqs.port}`);
  });

  it.skipIf(!hasShellTools)('prints one command per example that works as pasted into a shell', async () => {
    const printed = commands(banner(stack, examples));
    expect(printed.map(({ name }) => name)).toEqual(examples.map(({ name }) => name));

    for (const { name, command } of printed) {
      const { stdout } = await run('/bin/sh', ['-c', command]);
      expect(JSON.parse(stdout), name).toEqual({ queued: 1 });
    }
    await expect.poll(() => [tagsOf(1001), tagsOf(1002), tagsOf(1004)], { timeout: 20_000 }).toEqual([[], ['VIP', 'Churned'], ['Lead', 'VIP']]);
  });
});

describe('runDemo (npm run demo)', () => {
  it('resets the sandbox, sends every example and shows the tags before and after', async () => {
    // Changed beforehand, so the table can only show the demo tags if the demo reset the sandbox.
    await fetch(`${stack.sandbox!.url}/customers/1001/tags`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${stack.sandbox!.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tags: [{ name: 'Lead' }] }),
    });
    let output = '';
    const sandboxUrl = stack.sandbox!.url.replace(/\/v1$/, '');

    const accepted = await runDemo({ hostUrl: stack.hostUrl, sandboxUrl, sqsUrl: stack.queue!.sqs.url, reset: true }, examples, rules, (text) => (output += text));

    expect(accepted).toBe(true);
    expect(output).toContain('Sandbox reset to the demo customers.');
    expect(output).toMatch(/crm-deal-lost +202 queued 1 job\n/);
    expect(output).toMatch(/eventbridge-subscription-cancelled +200 queued 1 job\n/);
    // Read once the worker has taken every job: the table shows them all done.
    expect(stack.queue!.sqs.model.depth(stack.queue!.jobsQueueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(output).toMatch(/1001 Ada Lovelace +Lead, Trial user +— +removed Lead, Trial user/);
    expect(output).toMatch(/stripe-customer-subscription-deleted +202 queued 1 job\n/);
    expect(output).toMatch(/1002 Grace Hopper +Subscriber, VIP +VIP, Churned +removed Subscriber; added Churned/);
    expect(output).toMatch(/1004 Katherine Johnson +Lead, Subscriber, VIP +Lead, VIP +removed Subscriber/);
    expect(output).toMatch(/1003 Alan Turing +Trial user +Trial user\n/);
    expect(output).toContain(`Live view: ${sandboxUrl}/?sqs=${stack.queue!.sqs.url}\n`);
  });

  it('says how to start the stack when nothing answers', async () => {
    // A port that was free a moment ago: nothing listens there.
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const closedUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await new Promise((resolve) => server.close(resolve));

    const demo = runDemo({ hostUrl: closedUrl, sandboxUrl: closedUrl, sqsUrl: closedUrl, reset: true }, examples, rules, () => undefined);

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

    const demo = runDemo({ hostUrl: stack.hostUrl, sandboxUrl, sqsUrl: closedUrl, reset: true }, examples, rules, () => undefined);

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
