/**
 * The shipped examples against the local stack: they match rules.yml, the banner's curl commands
 * work as printed, `npm run demo` shows the tags go, and each event works through `npm run invoke`.
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
  stack = await startLocalStack({ env: {}, write: () => undefined });
});

afterAll(() => stack?.close());

beforeEach(() => stack.sandbox!.reset());

const tagsOf = (id: number) => stack.sandbox!.customer(id)?.tags.map((tag) => tag.name);

describe('examples/', () => {
  it('ships a CRM deal-lost and a billing subscription-cancelled webhook, and a direct EventBridge event', () => {
    expect(examples.map(({ name, kind, rule }) => [name, kind, rule.name])).toEqual([
      ['billing-subscription-cancelled', 'webhook', 'subscription-cancelled'],
      ['crm-deal-lost', 'webhook', 'deal-lost'],
      ['eventbridge-subscription-cancelled', 'eventbridge', 'churned'],
    ]);
  });

  it.each(examples.map((example) => [example.name, example] as const))('%s: its rules.yml entries are the ones rules.yml ships', (_, example) => {
    for (const rule of example.rules.rules) expect(rules.rules.find(({ name }) => name === rule.name)).toEqual(rule);
    for (const [name, source] of Object.entries(example.rules.sources)) expect(rules.sources[name]).toEqual(source);
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
    expect(text).toContain(stack.sandbox!.url.replace(/v1$/, ''));
    expect(text).toContain(stack.secretsManager!.url);
    expect(text).toContain(`npm run demo -- --port ${new URL(stack.hostUrl).port} --sandbox-port ${stack.sandbox!.port}`);
  });

  it.skipIf(!hasShellTools)('prints one command per example that works as pasted into a shell', async () => {
    const printed = commands(banner(stack, examples));
    expect(printed.map(({ name }) => name)).toEqual(examples.map(({ name }) => name));

    for (const { name, command } of printed) {
      const { stdout } = await run('/bin/sh', ['-c', command]);
      expect(JSON.parse(stdout), name).toEqual({ results: [expect.objectContaining({ status: 'untagged' })] });
    }
    expect([tagsOf(1001), tagsOf(1002), tagsOf(1004)]).toEqual([[], ['VIP'], ['Lead', 'VIP']]);
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

    const accepted = await runDemo({ hostUrl: stack.hostUrl, sandboxUrl, reset: true }, examples, rules, (text) => (output += text));

    expect(accepted).toBe(true);
    expect(output).toContain('Sandbox reset to the demo customers.');
    expect(output).toMatch(/crm-deal-lost +200 deal-lost: untagged, customer 1001/);
    expect(output).toMatch(/1001 Ada Lovelace +Lead, Trial user +— +removed Lead, Trial user/);
    expect(output).toMatch(/1002 Grace Hopper +Subscriber, VIP +VIP +removed Subscriber/);
    expect(output).toMatch(/1004 Katherine Johnson +Lead, Subscriber, VIP +Lead, VIP +removed Subscriber/);
    expect(output).toMatch(/1003 Alan Turing +Trial user +Trial user\n/);
  });

  it('says how to start the stack when nothing answers', async () => {
    // A port that was free a moment ago: nothing listens there.
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const closedUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await new Promise((resolve) => server.close(resolve));

    const demo = runDemo({ hostUrl: closedUrl, sandboxUrl: closedUrl, reset: true }, examples, rules, () => undefined);

    await expect(demo).rejects.toThrow(DemoUnreachableError);
    await expect(demo).rejects.toThrow('npm start');
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
