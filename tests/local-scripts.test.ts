/** The scripts as a user runs them: `npm start` as a process until Ctrl-C, in queue and inline dispatch, and `npm run invoke`. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { runInvoke, signHttpEvent, parseInvokeArgs } from '../local/host/invoke';
import type { LocalStack } from '../local/host/local-stack';
import { PROJECT_ROOT } from '../local/host/serverless-config';
import { UsageError } from '../local/sandbox/cli-options';
import type { SandboxState } from '../local/sandbox/helpcrunch-sandbox';
import { demoSigningSecret, signWebhook, type SecretVerifyConfig } from '../local/host/webhook-signing';
import { loadRulesFile } from '../tooling/rules/load';
import { webhookEvent } from './support/lambda-events';

const example = (name: string) => join(PROJECT_ROOT, 'examples', name, 'event.json');

describe('npm start (scripts/start.ts)', () => {
  let child: ReturnType<typeof spawn> | undefined;
  afterEach(() => {
    if (child?.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
  });

  /** Starts `npm start` as package.json runs it, on free ports; resolves once its banner is out. */
  async function npmStart(...args: string[]) {
    child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--port', '0', '--sandbox-port', '0', '--sqs-port', '0', ...args], {
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
    return { output: () => output, exited, hostUrl: address('Function host')!, pageUrl: address('Sandbox page')!, sqsUrl: address('SQS') };
  }

  async function sendLostDeal(hostUrl: string) {
    const body = JSON.stringify({ status: 'lost', person: { email: 'ada@example.com' } });
    const verify = loadRulesFile(join(PROJECT_ROOT, 'rules.yml')).sources.crm!.verify as SecretVerifyConfig;
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
    expect(started.pageUrl).toBe(`${new URL(started.pageUrl).origin}/?sqs=${started.sqsUrl}`);

    expect(await sendLostDeal(started.hostUrl)).toEqual({ status: 202, json: { queued: 1 } });
    const event = await fetch(`${started.hostUrl}/events`, {
      method: 'POST',
      body: JSON.stringify({ source: 'billing.app', 'detail-type': 'Subscription Cancelled', detail: { account: { id: 'u-grace' } } }),
    });
    expect(await event.json()).toEqual({ queued: 1 });
    // serverless.yml's 5 s batching window, then the worker's paced requests.
    await expect.poll(() => sandboxTags(started.pageUrl, 1001), { timeout: 30_000 }).toEqual([]);
    await expect.poll(() => started.output(), { timeout: 30_000 }).toMatch(/✓ untagged {5}deal-lost {2}customer 1001 {2}− Lead, Trial user {2}2 requests/);
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

    expect(response).toEqual({ status: 200, json: { results: [{ rule: 'deal-lost', customerId: 1001, removed: ['Lead', 'Trial user'], added: [], status: 'untagged' }] } });
    expect(await sandboxTags(started.pageUrl, 1001)).toEqual([]);
    process.kill(-child!.pid!, 'SIGINT');
    expect(await started.exited).toBe(0);
  }, 60_000);
});

describe('npm run invoke (runInvoke)', () => {
  const billing = { kind: 'webhook' as const, eventFile: example('billing-subscription-cancelled') };

  it('refuses an expired Standard Webhooks signature and suggests --sign', async () => {
    let output = '';

    expect(await runInvoke({ ...billing, sign: false, jsonLogs: true }, {}, (text) => (output += text))).toBe(false);
    expect(output).toContain('timestamp_out_of_tolerance');
    expect(output).toContain('--sign re-signs the body');
    // --json-logs: the function's own JSON lines, as Lambda writes them.
    expect(output).toMatch(/^\{"level":"WARN","message":"webhook rejected"/m);
    expect(output).toContain('No sandbox customer changed.');
  });

  it('with --sign, runs the function once against a fresh sandbox; in queue mode the worker then takes the job', async () => {
    let output = '';

    expect(await runInvoke({ ...billing, sign: true, jsonLogs: false }, {}, (text) => (output += text))).toBe(true);
    expect(output).toContain('"statusCode": 202');
    expect(output).toMatch(/✓ untagged {5}subscription-cancelled {2}customer 1002 {2}− Subscriber/);
    expect(output).toMatch(/Sandbox customers changed:\n.*\n {2}1002 Grace Hopper +Subscriber, VIP +VIP +removed Subscriber\n/);
  });

  it('with --dispatch inline, the function calls HelpCrunch itself and its result shows it', async () => {
    let output = '';

    expect(await runInvoke({ ...billing, sign: true, jsonLogs: false, dispatch: 'inline' }, {}, (text) => (output += text))).toBe(true);
    expect(output).toContain('"statusCode": 200');
    expect(output).toMatch(/removed Subscriber\n/);
  });

  it('parses <webhook|eventbridge> <event.json> and its flags', () => {
    expect(parseInvokeArgs(['webhook', 'e.json', '--sign'])).toEqual({ kind: 'webhook', eventFile: 'e.json', sign: true, jsonLogs: false });
    expect(parseInvokeArgs(['webhook', 'e.json', '--dispatch', 'inline'])).toMatchObject({ dispatch: 'inline' });
    expect(() => parseInvokeArgs(['webhook', 'e.json', '--dispatch', 'later'])).toThrow("--dispatch (or DISPATCH) must be inline or queue, got 'later'");
    expect(parseInvokeArgs(['--help'])).toBeUndefined();
    expect(() => parseInvokeArgs(['sqs', 'e.json'])).toThrow(UsageError);
    expect(() => parseInvokeArgs(['webhook'])).toThrow('Expected <webhook|eventbridge> <event.json>');
    expect(() => parseInvokeArgs(['webhook', 'e.json', '--nope'])).toThrow(UsageError);
  });
});

describe('signHttpEvent', () => {
  const stack = {
    rules: { sources: { crm: { verify: { scheme: 'token', header: 'X-Token', secretId: 'crm' } } }, rules: [] },
    secrets: { crm: 'demo-token' },
  } as unknown as LocalStack;

  it('replaces the signature headers of REST (1.0) events in headers and multiValueHeaders, whatever their case', () => {
    const event = webhookEvent('rest-api', { source: 'crm', body: '{}', headers: { 'X-Token': 'stale' } }) as APIGatewayProxyEvent;

    const signed = signHttpEvent(event, stack) as APIGatewayProxyEvent;

    expect(signed.headers).toMatchObject({ 'x-token': 'demo-token' });
    expect(signed.headers['X-Token']).toBeUndefined();
    expect(signed.multiValueHeaders).toMatchObject({ 'x-token': ['demo-token'] });
    expect(signed.multiValueHeaders['X-Token']).toBeUndefined();
  });

  it('refuses a source rules.yml does not define, and the real target', () => {
    expect(() => signHttpEvent(webhookEvent('http-api', { source: 'nope', body: '{}' }), stack)).toThrow("no webhook source 'nope'");
    const external = { ...stack, secrets: {} } as LocalStack;
    expect(() => signHttpEvent(webhookEvent('http-api', { source: 'crm', body: '{}' }), external)).toThrow('--sign needs the sandbox');
  });
});
