/** The scripts as a user runs them: `npm start` as a process until Ctrl-C, in queue and inline dispatch, and `npm run invoke`. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { parseInvokeArgs, runInvoke, signHttpEvent, type InvokeArgs } from '../local/host/invoke';
import type { LocalStack } from '../local/host/local-stack';
import { PROJECT_ROOT } from '../local/host/serverless-config';
import { UsageError } from '../local/sandbox/cli-options';
import type { SandboxState } from '../local/sandbox/helpcrunch-sandbox';
import { demoSigningSecret, signWebhook, type SecretVerifyConfig } from '../local/host/webhook-signing';
import { loadRulesFile } from '../tooling/rules/load';
import { webhookEvent } from './support/lambda-events';
import { SUITE_RULES } from './support/suite-rules';

const root = PROJECT_ROOT;

describe('npm start (scripts/start.ts)', () => {
  let child: ReturnType<typeof spawn> | undefined;
  afterEach(() => {
    if (child?.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
  });

  /** Starts `npm start` as package.json runs it, on free ports; resolves once its banner is out. */
  async function npmStart(...args: string[]) {
    // The suite's own rules, never the project's (the user's) rules.yml.
    const flags = ['--rules', SUITE_RULES, '--port', '0', '--sandbox-port', '0', '--sqs-port', '0'];
    child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', ...flags, ...args], {
      cwd: PROJECT_ROOT,
      // Its own process group, which gets the SIGINT, as a terminal's foreground job does on Ctrl-C.
      detached: true,
      // No HELPCRUNCH_API_URL: the sandbox target, whatever this shell has set.
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    await expect.poll(() => output, { timeout: 20_000 }).toContain('Ctrl-C stops everything.');
    const address = (name: string) => new RegExp(`${name} +(http://\\S+)`).exec(output)?.[1];
    return {
      output: () => output,
      exited,
      hostUrl: address('Function host')!,
      pageUrl: address('Sandbox page')!,
      sqsUrl: address('SQS'),
    };
  }

  async function sendLostDeal(hostUrl: string) {
    const body = JSON.stringify({ status: 'lost', person: { email: 'ada@example.com' } });
    const verify = loadRulesFile(SUITE_RULES).sources.crm!.verify as SecretVerifyConfig;
    const headers = { 'content-type': 'application/json', ...signWebhook(verify, demoSigningSecret(verify), body) };
    const response = await fetch(`${hostUrl}/webhooks/crm`, { method: 'POST', headers, body });
    return { status: response.status, json: (await response.json()) as unknown };
  }

  async function sandboxTags(pageUrl: string, id: number) {
    const state = (await (await fetch(new URL('/_sandbox/state', pageUrl))).json()) as SandboxState;
    return state.customers.find((customer) => customer.id === id)?.tags.map((tag) => tag.name);
  }

  it('runs queue dispatch, as deployed: 202 at once, then the worker removes the tags; Ctrl-C closes every port, exit 0', async () => {
    const started = await npmStart();
    expect(started.output()).toContain('Dispatch: queue, as deployed');
    // The banner's sample events are the suite rules' rule tests.
    expect(started.output()).toContain("# a lost deal removes Ada's lead tags (crm webhook, hmac)");
    expect(started.pageUrl).toBe(`${new URL(started.pageUrl).origin}/?sqs=${started.sqsUrl}`);

    expect(await sendLostDeal(started.hostUrl)).toEqual({ status: 202, json: { queued: 1 } });
    const event = await fetch(`${started.hostUrl}/events`, {
      method: 'POST',
      body: JSON.stringify({
        source: 'billing.app',
        'detail-type': 'Subscription Cancelled',
        detail: { account: { id: 'u-grace' } },
      }),
    });
    expect(await event.json()).toEqual({ queued: 1 });
    // The worker takes the jobs at once (a FIFO queue has no batching window), at its paced rate.
    await expect.poll(() => sandboxTags(started.pageUrl, 1001), { timeout: 30_000 }).toEqual([]);
    await expect
      .poll(() => started.output(), { timeout: 30_000 })
      .toMatch(/✓ untagged {5}deal-lost {2}customer 1001 {2}− Lead, Trial user {2}2 requests/);
    await expect.poll(() => started.output(), { timeout: 30_000 }).toMatch(/✓ untagged {5}churned {2}customer 1002/);

    process.kill(-child!.pid!, 'SIGINT');
    expect(await started.exited).toBe(0);
    expect(started.output()).toContain('Stopping…');
    for (const url of [started.hostUrl, started.pageUrl, started.sqsUrl!]) await expect(fetch(url)).rejects.toThrow();
  }, 60_000);

  it('with --dispatch inline, the webhook calls HelpCrunch itself and answers with the results', async () => {
    const started = await npmStart('--dispatch', 'inline');
    expect(started.output()).toContain('Dispatch: inline');
    expect(started.sqsUrl).toBeUndefined();

    const response = await sendLostDeal(started.hostUrl);

    expect(response).toEqual({
      status: 200,
      json: {
        results: [
          { rule: 'deal-lost', customerId: 1001, removed: ['Lead', 'Trial user'], added: [], status: 'untagged' },
        ],
      },
    });
    expect(await sandboxTags(started.pageUrl, 1001)).toEqual([]);
    process.kill(-child!.pid!, 'SIGINT');
    expect(await started.exited).toBe(0);
  }, 60_000);
});

describe('npm run invoke (runInvoke)', () => {
  const fixtures = join(root, 'tests/fixtures/rule-tests');
  const refund = join(fixtures, 'refund.json');
  // The fixture rules (a token-signed shop webhook typed by a header, an EventBridge source) and
  // their customer: ann@example.com, id 1, tags Buyer and VIP.
  const base = {
    file: refund,
    headers: {},
    sign: false,
    explain: false,
    jsonLogs: false,
    rulesFile: join(fixtures, 'rules.yml'),
    customersFile: join(fixtures, 'customers.json'),
  };
  const shop = { ...base, kind: 'webhook' as const, source: 'shop', headers: { 'X-Shop-Event': 'order.refunded' } };
  const invoke = async (args: InvokeArgs) => {
    let output = '';
    const ok = await runInvoke(args, {}, (text) => (output += text));
    return { ok, output };
  };

  it('posts a raw payload to its source, signed, and waits for the worker in queue dispatch', async () => {
    const { ok, output } = await invoke({ ...shop, sign: true });
    expect(ok).toBe(true);
    expect(output).toContain('Reply 202:');
    expect(output).toContain('Jobs: 1 untagged');
    expect(output).toMatch(/Sandbox customers changed:\n.*\n {2}1 Ann +Buyer, VIP +VIP +removed Buyer\n/);
  });

  it('with --dispatch inline, the webhook calls HelpCrunch itself and replies with the results', async () => {
    const { ok, output } = await invoke({ ...shop, sign: true, dispatch: 'inline' });
    expect(ok).toBe(true);
    expect(output).toContain('Reply 200:');
    expect(output).toContain('"status": "untagged"');
  });

  it('exits non-zero for a refused request, and suggests --sign', async () => {
    const { ok, output } = await invoke(shop);
    expect(ok).toBe(false);
    expect(output).toContain('Reply 401:');
    expect(output).toContain('missing_signature');
    expect(output).toContain('--sign signs the body');
    expect(output).toContain('No sandbox customer changed.');
  });

  it('--explain says per rule why it matched or not, with the values the expressions gave', async () => {
    const { output } = await invoke({ ...shop, sign: true, explain: true, headers: { 'X-Shop-Event': 'order.paid' } });
    expect(output).toContain('Explain: source shop, event type "order.paid"');
    expect(output).toContain('✗ no match  order-refunded: event type is not one of order.refunded');
    expect(output).toContain('No job: no rule matched');
    const matched = await invoke({ ...shop, sign: true, explain: true });
    expect(matched.output).toContain(
      '✓ matches  order-refunded: event type is one of order.refunded; customer.email lower(customer.email) → "ann@example.com"',
    );
  });

  it('sends an EventBridge detail with its source and detail-type', async () => {
    const detail = join(mkdtempSync(join(tmpdir(), 'hcu-invoke-')), 'detail.json');
    writeFileSync(detail, JSON.stringify({ userId: 'u-ann' }));
    const { ok, output } = await invoke({
      ...base,
      kind: 'eventbridge',
      file: detail,
      source: 'orders.app',
      detailType: 'Order Cancelled',
      explain: true,
    });
    expect(ok).toBe(true);
    expect(output).toContain(
      '✓ matches  order-cancelled: event type is one of Order Cancelled; customer.userId userId → "u-ann"',
    );
    expect(output).toContain('Jobs: 1 untagged');
  });

  it('still takes a whole Lambda event, signing it with --sign', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hcu-invoke-')), 'event.json');
    writeFileSync(
      file,
      JSON.stringify(
        webhookEvent('http-api', {
          source: 'shop',
          body: readFileSync(refund),
          headers: { 'X-Shop-Event': 'order.refunded' },
        }),
      ),
    );
    const { ok, output } = await invoke({ ...base, kind: 'webhook', file, sign: true, dispatch: 'inline' });
    expect(ok).toBe(true);
    expect(output).toContain('Jobs: 1 untagged');
  });

  it('parses both forms and their flags', () => {
    expect(
      parseInvokeArgs([
        'webhook',
        'p.json',
        '--source',
        'crm',
        '--header',
        'X-Event: a: b',
        '--header',
        'X-Two:2',
        '--sign',
        '--explain',
      ]),
    ).toEqual({
      kind: 'webhook',
      file: 'p.json',
      source: 'crm',
      headers: { 'X-Event': 'a: b', 'X-Two': '2' },
      sign: true,
      explain: true,
      jsonLogs: false,
    });
    expect(parseInvokeArgs(['eventbridge', 'd.json', '--source', 'a.app', '--detail-type', 'X'])).toMatchObject({
      source: 'a.app',
      detailType: 'X',
    });
    expect(parseInvokeArgs(['webhook', 'e.json', '--dispatch', 'inline', '--rules', 'r.yml'])).toMatchObject({
      dispatch: 'inline',
      rulesFile: 'r.yml',
    });
    expect(() => parseInvokeArgs(['webhook', 'e.json', '--dispatch', 'later'])).toThrow(
      "--dispatch (or DISPATCH) must be inline or queue, got 'later'",
    );
    expect(() => parseInvokeArgs(['eventbridge', 'd.json', '--source', 'a.app'])).toThrow(
      'needs both --source and --detail-type',
    );
    expect(() => parseInvokeArgs(['webhook', 'e.json', '--header', 'X: 1'])).toThrow(
      '--header goes with webhook <payload.json> --source <name>',
    );
    expect(() => parseInvokeArgs(['webhook', 'p.json', '--source', 's', '--header', 'nocolon'])).toThrow(
      "--header must be 'Name: value'",
    );
    expect(parseInvokeArgs(['--help'])).toBeUndefined();
    expect(() => parseInvokeArgs(['sqs', 'e.json'])).toThrow(UsageError);
    expect(() => parseInvokeArgs(['webhook'])).toThrow('Expected <webhook|eventbridge> <file.json>');
    expect(() => parseInvokeArgs(['webhook', 'e.json', '--nope'])).toThrow(UsageError);
  });
});

describe('signHttpEvent', () => {
  const stack = {
    rules: { sources: { crm: { verify: { scheme: 'token', header: 'X-Token', secretId: 'crm' } } }, rules: [] },
    secrets: { crm: 'demo-token' },
  } as unknown as LocalStack;

  it('replaces the signature headers of REST (1.0) events in headers and multiValueHeaders, whatever their case', () => {
    const event = webhookEvent('rest-api', {
      source: 'crm',
      body: '{}',
      headers: { 'X-Token': 'stale' },
    }) as APIGatewayProxyEvent;

    const signed = signHttpEvent(event, stack) as APIGatewayProxyEvent;

    expect(signed.headers).toMatchObject({ 'x-token': 'demo-token' });
    expect(signed.headers['X-Token']).toBeUndefined();
    expect(signed.multiValueHeaders).toMatchObject({ 'x-token': ['demo-token'] });
    expect(signed.multiValueHeaders['X-Token']).toBeUndefined();
  });

  it('refuses a source rules.yml does not define, and the real target', () => {
    expect(() => signHttpEvent(webhookEvent('http-api', { source: 'nope', body: '{}' }), stack)).toThrow(
      "no webhook source 'nope'",
    );
    const external = { ...stack, secrets: {} } as LocalStack;
    expect(() => signHttpEvent(webhookEvent('http-api', { source: 'crm', body: '{}' }), external)).toThrow(
      '--sign needs the sandbox',
    );
  });
});
