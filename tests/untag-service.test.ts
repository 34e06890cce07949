/**
 * The service as the runtime wires it, in both dispatch modes: a request or event that matches more
 * jobs than MAX_JOBS_PER_REQUEST is refused before anything is dispatched (no HelpCrunch call, no
 * queue message). Real HelpCrunch sandbox over HTTP; SQS is a recording port.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TooManyJobsError } from '../lib/errors';
import type { HttpRequest } from '../lib/triggers/http-event';
import type { SqsApi } from '../lib/queue/sqs-api';
import { RetryBudget } from '../lib/http/retry';
import { compileRules } from '../lib/rules/match';
import { createRuntime } from '../lib/runtime';
import type { SecretCache } from '../lib/secrets';
import { startHelpCrunchSandbox, type HelpCrunchSandbox } from '../local/sandbox/helpcrunch-sandbox';
import { useLocalLedger } from './support/ledger';

// Two rules per source: every payload is two jobs.
const rules = compileRules({
  sources: { open: { verify: { scheme: 'none' } } },
  eventSources: { 'bus.app': { bus: 'default' } },
  lookups: {},
  rules: [
    {
      name: 'drop-a',
      source: ['open', 'bus.app'],
      customer: { by: 'helpcrunchId', expression: 'id' },
      removeTags: ['Lead'],
      addTags: [],
    },
    {
      name: 'drop-b',
      source: ['open', 'bus.app'],
      customer: { by: 'helpcrunchId', expression: 'id' },
      removeTags: ['VIP'],
      addTags: [],
    },
  ],
});

let sandbox: HelpCrunchSandbox;
const sent: unknown[] = [];
const sqs: SqsApi = {
  sendMessageBatch: async (input) => {
    sent.push(input);
    return {
      Successful: input.Entries!.map((entry) => ({ Id: entry.Id!, MessageId: entry.Id!, MD5OfMessageBody: '' })),
      Failed: [],
    };
  },
  sendMessage: async (input) => sent.push(input),
  changeMessageVisibility: async () => undefined,
};
const secrets: SecretCache = { get: async () => sandbox.apiKey, prefetch: () => undefined, clear: () => undefined };

let ledgerTable: string;

beforeAll(async () => {
  sandbox = await startHelpCrunchSandbox();
  ledgerTable = (await useLocalLedger()).tableName;
});
afterAll(() => sandbox.close());
beforeEach(() => {
  sandbox.reset();
  sent.length = 0;
});

const budget = () => RetryBudget.until(Date.now() + 10_000);
const webhook = (payloads: unknown[]): HttpRequest => ({
  method: 'POST',
  path: '/webhooks/open',
  source: 'open',
  headers: {},
  rawBody: Buffer.from(JSON.stringify(payloads)),
  url: undefined,
  query: '',
});
const event = {
  id: 'evt-1',
  source: 'bus.app',
  detailType: 'Anything',
  time: '2026-11-01T00:00:00Z',
  detail: { id: 1004 },
};

describe.each([
  ['inline', {}],
  ['queue', { DISPATCH: 'queue', JOBS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/jobs' }],
])('MAX_JOBS_PER_REQUEST, %s dispatch', (_, dispatchEnv) => {
  const service = (max: number) =>
    createRuntime(
      rules,
      {
        HELPCRUNCH_API_URL: sandbox.url,
        HELPCRUNCH_API_KEY_SECRET_ID: 'key',
        MAX_JOBS_PER_REQUEST: String(max),
        LEDGER_TABLE: ledgerTable,
        ...dispatchEnv,
      },
      { sqs, secrets },
    ).service;

  it('refuses a webhook batch over the limit with 413 too_many_jobs, dispatching nothing', async () => {
    const error = await service(3)
      .handleWebhook(webhook([{ id: 1001 }, { id: 1004 }]), budget())
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TooManyJobsError);
    expect(error).toMatchObject({
      status: 413,
      code: 'too_many_jobs',
      retryable: false,
      message: expect.stringContaining('matched 4 jobs; at most 3'),
    });
    expect(sandbox.requests).toEqual([]);
    expect(sent).toEqual([]);
  });

  it('refuses an EventBridge event over the limit the same way', async () => {
    await expect(service(1).handleEvent(event, budget())).rejects.toMatchObject({ code: 'too_many_jobs' });
    expect(sandbox.requests).toEqual([]);
    expect(sent).toEqual([]);
  });

  it('takes a request at the limit', async () => {
    const result = await service(4).handleWebhook(webhook([{ id: 1001 }, { id: 1004 }]), budget());
    // Four jobs: two units (one per payload and customer) on the queue, four outcomes inline.
    expect(result.dispatch === 'queue' ? result.queued : result.outcomes.length).toBe(
      result.dispatch === 'queue' ? 2 : 4,
    );
  });
});

it('defaults to 100 jobs per request', () => {
  const env = { HELPCRUNCH_API_KEY_SECRET_ID: 'key', LEDGER_TABLE: ledgerTable };
  expect(createRuntime(rules, env, { secrets }).config.maxJobsPerRequest).toBe(100);
});
