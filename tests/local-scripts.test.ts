/** The scripts as a user runs them: `npm start` as a process until Ctrl-C, and `npm run invoke`. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { runInvoke, signHttpEvent, parseInvokeArgs } from '../local/host/invoke';
import type { LocalStack } from '../local/host/local-stack';
import { PROJECT_ROOT } from '../local/host/serverless-config';
import { UsageError } from '../local/sandbox/cli-options';
import { webhookEvent } from './support/lambda-events';

const example = (name: string) => join(PROJECT_ROOT, 'examples', name, 'event.json');

describe('npm start (scripts/start.ts)', () => {
  let child: ReturnType<typeof spawn> | undefined;
  afterEach(() => {
    if (child?.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
  });

  it('serves until Ctrl-C, then closes every port and exits 0', async () => {
    // As package.json's "start" runs it.
    child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--port', '0', '--sandbox-port', '0'], {
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
    await expect.poll(() => output, { timeout: 15_000 }).toContain('Ctrl-C stops everything.');
    const hostUrl = /Function host +(http:\/\/\S+)/.exec(output)![1]!;
    const pageUrl = /Sandbox page +(http:\/\/\S+)/.exec(output)![1]!;

    const event = await fetch(`${hostUrl}/events`, {
      method: 'POST',
      body: JSON.stringify({ source: 'billing.app', 'detail-type': 'Subscription Cancelled', detail: { account: { id: 'u-grace' } } }),
    });
    expect(event.status).toBe(200);
    await expect.poll(() => output).toMatch(/✓ untagged {2}churned {2}customer 1002/);

    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('Stopping…');
    for (const url of [hostUrl, pageUrl]) await expect(fetch(url)).rejects.toThrow();
  });
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

  it('with --sign, runs the function once against a fresh sandbox and shows the result and what changed', async () => {
    let output = '';

    expect(await runInvoke({ ...billing, sign: true, jsonLogs: false }, {}, (text) => (output += text))).toBe(true);
    expect(output).toMatch(/✓ untagged {2}subscription-cancelled {2}customer 1002 {2}\[Subscriber\]/);
    expect(output).toContain('"statusCode": 200');
    expect(output).toMatch(/Sandbox customers changed:\n.*\n {2}1002 Grace Hopper +Subscriber, VIP +VIP +removed Subscriber\n/);
  });

  it('parses <webhook|eventbridge> <event.json> and its flags', () => {
    expect(parseInvokeArgs(['webhook', 'e.json', '--sign'])).toEqual({ kind: 'webhook', eventFile: 'e.json', sign: true, jsonLogs: false });
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
