/**
 * A sender authenticated only by a secret in the webhook URL (Mailchimp: `token` with `query`),
 * end to end over real HTTP through the local host and the bundled webhook function: the right
 * secret untags, a wrong or missing one is a 401 that changes nothing, a GET is answered only when
 * the source allows it and the GET carries the secret, and the secret reaches no log line or reply.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../local/host/local-stack';

const dir = mkdtempSync(join(tmpdir(), 'url-secret-'));
const rulesFile = join(dir, 'rules.yml');
writeFileSync(
  rulesFile,
  `sources:
  mailchimp:
    verify: {scheme: token, query: key, secretId: url-secret/mailchimp, answerGet: true}
    eventType: {field: type}
  forms:
    verify: {scheme: token, query: key, secretId: url-secret/forms}
rules:
  - name: unsubscribed
    source: mailchimp
    eventType: unsubscribe
    customer: {email: '"data[email]"'}
    removeTags: [Subscriber]
    addTags: [Unsubscribed]
  - name: form-sent
    source: forms
    customer: {email: email}
    addTags: [Form]
`,
);

/** Mailchimp's unsubscribe fields (examples/mailchimp/payload.json), for the sandbox's grace@example.com (1002). */
const unsubscribe = new URLSearchParams({
  type: 'unsubscribe',
  fired_at: '2026-11-24 07:59:58',
  'data[action]': 'unsub',
  'data[email]': 'grace@example.com',
}).toString();
const form = { 'content-type': 'application/x-www-form-urlencoded' };

let stack: LocalStack;
const output: string[] = [];
let secret: string;

beforeAll(async () => {
  stack = await startLocalStack({
    // Everything the functions could log: DEBUG lines, and Powertools' own event logging if anything lets it through.
    env: { POWERTOOLS_LOG_LEVEL: 'DEBUG', POWERTOOLS_LOGGER_LOG_EVENT: 'true' },
    rulesFile,
    dispatch: 'inline',
    write: (text) => output.push(text),
    onFunctionOutput: (line) => output.push(line),
  });
  secret = stack.secrets['url-secret/mailchimp']!;
});

afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => stack.sandbox!.reset());

const tagsOfGrace = () => stack.sandbox!.customer(1002)?.tags.map((tag) => tag.name);
const url = (source: string, query = '') => `${stack.hostUrl}/webhooks/${source}${query}`;
async function send(target: string, init: RequestInit = {}) {
  const response = await fetch(target, init);
  return { status: response.status, body: await response.text() };
}
const post = (target: string) => send(target, { method: 'POST', headers: form, body: unsubscribe });
const codeOf = (body: string) => (JSON.parse(body) as { errors: { code: string }[] }).errors[0]!.code;

describe('a secret in the webhook URL', () => {
  it('with the right secret, the delivery untags', async () => {
    const reply = await post(url('mailchimp', `?key=${encodeURIComponent(secret)}`));

    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ results: [{ rule: 'unsubscribed', status: 'untagged' }] });
    expect(tagsOfGrace()).toEqual(['VIP', 'Unsubscribed']);
  });

  it.each([
    ['no secret', '', 'missing_signature'],
    ['an empty secret', '?key=', 'missing_signature'],
    ['another secret', '?key=not-the-secret', 'invalid_signature'],
    ['the secret under another name', '?token=SECRET', 'missing_signature'],
    ['the secret twice, once right', '?key=SECRET&key=guess', 'invalid_signature'],
  ])('with %s: 401, nothing changed, HelpCrunch not called', async (_, query, code) => {
    const before = stack.sandbox!.stats().total;
    const reply = await post(url('mailchimp', query.replace('SECRET', encodeURIComponent(secret))));

    expect(reply.status).toBe(401);
    expect(codeOf(reply.body)).toBe(code);
    expect(tagsOfGrace()).toEqual(['Subscriber', 'VIP']);
    expect(stack.sandbox!.stats().total).toBe(before);
  });
});

describe('GET /webhooks/<source>, as Mailchimp checks the URL before saving it', () => {
  it('answers 200 with nothing done when the source has answerGet and the GET carries the secret', async () => {
    const before = stack.sandbox!.stats().total;
    const reply = await send(url('mailchimp', `?key=${encodeURIComponent(secret)}`));

    expect(reply).toEqual({ status: 200, body: JSON.stringify({ results: [] }) });
    expect(stack.sandbox!.stats().total).toBe(before);
  });

  it.each([
    ['without the secret', '', 'missing_signature'],
    ['with another secret', '?key=not-the-secret', 'invalid_signature'],
  ])('is a 401 %s', async (_, query, code) => {
    const reply = await send(url('mailchimp', query));

    expect(reply.status).toBe(401);
    expect(codeOf(reply.body)).toBe(code);
  });

  it('stays 405 on a source without answerGet, even with its secret', async () => {
    const reply = await send(url('forms', `?key=${encodeURIComponent(stack.secrets['url-secret/forms']!)}`));

    expect(reply.status).toBe(405);
    expect(codeOf(reply.body)).toBe('method_not_allowed');
  });
});

describe('the secret', () => {
  it('reaches no log line and no reply, whether it was right or wrong', async () => {
    const guess = 'a-guess-of-the-secret-7f3e';
    const replies = [
      await post(url('mailchimp', `?key=${encodeURIComponent(secret)}`)),
      await post(url('mailchimp', `?key=${guess}`)),
      await send(url('mailchimp', `?key=${encodeURIComponent(secret)}`)),
      await send(url('mailchimp', `?key=${guess}`)),
    ];
    const everything = [...output, ...replies.map((reply) => reply.body)].join('\n');

    expect(everything).toContain('webhook'); // the capture saw the requests
    for (const text of [secret, encodeURIComponent(secret), guess]) expect(everything).not.toContain(text);
  });
});
