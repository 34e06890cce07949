/**
 * The sandbox's read-only page and the endpoints it uses (local/sandbox/inspector.ts), over real HTTP:
 * GET /, GET /_sandbox/state, GET /_sandbox/events (SSE), POST /_sandbox/reset and /_sandbox/script; and, in queue
 * mode, the local SQS's /_local/queues and /_local/queues/events the page shows the queues from.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_STATE_REQUESTS } from '../local/sandbox/inspector';
import {
  SANDBOX_ERRORS,
  startHelpCrunchSandbox,
  type HelpCrunchSandbox,
  type SandboxState,
} from '../local/sandbox/helpcrunch-sandbox';
import { startSqsEndpoint, type SqsEndpoint } from '../local/sandbox/sqs-endpoint';

const API_KEY = 'page-test-key';
let sandbox: HelpCrunchSandbox | undefined;

afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start(options: Parameters<typeof startHelpCrunchSandbox>[0] = {}) {
  sandbox = await startHelpCrunchSandbox({ apiKey: API_KEY, ...options });
  return { sandbox, root: sandbox.url.replace(/\/v1$/, '') };
}

const removeTag = (id: number, name: string) =>
  fetch(`${sandbox!.url}/customers/${id}/tags`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tags: [{ name }] }),
  });

const state = async (root: string) => (await (await fetch(`${root}/_sandbox/state`)).json()) as SandboxState;

/** Reads the events named `event` from an SSE response. */
function sseEvents<T>(response: Response, event: string) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const pattern = new RegExp(`^event: ${event}\ndata: (.*)$`, 'm');
  let buffer = '';
  return {
    async next(): Promise<T> {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end !== -1) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = pattern.exec(frame);
          if (data) return JSON.parse(data[1]!) as T;
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += value;
      }
    },
    cancel: () => reader.cancel(),
  };
}

const stateEvents = (response: Response) => sseEvents<SandboxState>(response, 'state');

describe('GET /', () => {
  it('serves the page without auth: plain HTML and a script that follows /_sandbox/events', async () => {
    const { root } = await start();
    const response = await fetch(`${root}/`);
    const html = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html).toContain('<title>HelpCrunch sandbox</title>');
    expect(html).toContain("new EventSource('/_sandbox/events')");
    // Text is inserted as text, never as HTML: tag names come from API callers.
    expect(html).not.toContain('innerHTML');
  });
});

describe('GET /_sandbox/state', () => {
  it('shows customers, the latest requests newest first, stats, rate limit and faults', async () => {
    const { root } = await start({ rateLimit: { requests: 50, windowMs: 60_000 }, faults: { latencyMs: 1 } });
    await removeTag(1001, 'Lead');
    await fetch(`${sandbox!.url}/customers/1001`);

    const body = await state(root);

    expect(body.customers.find((c) => c.id === 1001)?.tags.map((t) => t.name)).toEqual(['Trial user']);
    expect(body.customerCount).toBe(6);
    expect(body.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'GET /v1/customers/1001 401',
      'DELETE /v1/customers/1001/tags 200',
    ]);
    expect(body.stats).toMatchObject({ total: 2, byStatus: { 200: 1, 401: 1 } });
    expect(body.rateLimit).toEqual({ requests: 50, windowMs: 60_000 });
    expect(body.faults).toMatchObject({ latencyMs: 1 });
  });

  it('shows the tag names of PUTs and DELETEs, as the page lists them, and none for other or invalid requests', async () => {
    const { root } = await start();
    const send = (method: string, body: string) =>
      fetch(`${sandbox!.url}/customers/1003/tags`, {
        method,
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body,
      });
    await send('PUT', JSON.stringify({ tags: [{ name: 'Churned' }, { name: 'Win-back', color: '#000' }] }));
    await send('DELETE', JSON.stringify({ tags: [{ name: 'Trial user' }] }));
    await send('DELETE', '{"tags": "Lead"}');

    const { requests } = await state(root);

    expect(requests.map(({ method, status, tags }) => [method, status, tags])).toEqual([
      ['DELETE', 400, undefined],
      ['DELETE', 200, ['Trial user']],
      ['PUT', 200, ['Churned', 'Win-back']],
    ]);
  });

  it('shows requests without their headers (the API key) or bodies', async () => {
    const { root } = await start();
    await removeTag(1001, 'Lead');

    const { requests } = await state(root);

    expect(Object.keys(requests[0]!).sort()).toEqual(['at', 'method', 'ms', 'path', 'status', 'tags']);
    expect(JSON.stringify(requests)).not.toContain(API_KEY);
  });

  it('is not API traffic: no key needed, no faults, not logged, not rate-limited', async () => {
    const { root } = await start({ rateLimit: { requests: 1, windowMs: 60_000 }, faults: { rate5xx: 1 } });

    for (let i = 0; i < 3; i++) expect((await fetch(`${root}/_sandbox/state`)).status).toBe(200);
    expect((await fetch(`${root}/`)).status).toBe(200);
    expect(sandbox!.stats().total).toBe(0);
  });

  it('keeps only the latest requests', async () => {
    const { root } = await start();
    for (let i = 0; i < MAX_STATE_REQUESTS + 5; i++) await fetch(`${sandbox!.url}/customers`);

    const { requests, stats } = await state(root);
    expect(requests).toHaveLength(MAX_STATE_REQUESTS);
    expect(stats.total).toBe(MAX_STATE_REQUESTS + 5);
  });

  it('leaves other paths to the API, which wants a key', async () => {
    const { root } = await start();

    const response = await fetch(`${root}/_sandbox/other`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual(SANDBOX_ERRORS.unauthorized.body);
  });
});

describe('GET /_sandbox/events', () => {
  it('sends the state on connect and again after each change', async () => {
    const { root } = await start();
    const response = await fetch(`${root}/_sandbox/events`);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const events = stateEvents(response);

    expect((await events.next()).customers.find((c) => c.id === 1002)?.tags.map((t) => t.name)).toEqual([
      'Subscriber',
      'VIP',
    ]);
    await removeTag(1002, 'Subscriber');
    const pushed = await events.next();

    expect(pushed.customers.find((c) => c.id === 1002)?.tags.map((t) => t.name)).toEqual(['VIP']);
    expect(pushed.requests[0]).toMatchObject({ method: 'DELETE', path: '/v1/customers/1002/tags', status: 200 });
    await events.cancel();
  });

  it('coalesces a burst of requests into few pushes', async () => {
    const { root } = await start();
    const events = stateEvents(await fetch(`${root}/_sandbox/events`));
    await events.next();

    await Promise.all(
      Array.from({ length: 40 }, () =>
        fetch(`${sandbox!.url}/customers`, { headers: { authorization: `Bearer ${API_KEY}` } }),
      ),
    );
    let latest = await events.next();
    let pushes = 1;
    for (; latest.stats.total < 40; pushes++) latest = await events.next();

    expect(latest.stats.total).toBe(40);
    expect(pushes).toBeLessThan(10);
    await events.cancel();
  });

  it('does not keep close() waiting for connected pages', async () => {
    const { root } = await start();
    const events = stateEvents(await fetch(`${root}/_sandbox/events`));
    await events.next();

    await sandbox!.close();
    await expect(events.next()).rejects.toThrow();
  });
});

describe('POST /_sandbox/reset', () => {
  it('restores the seed customers and clears the request log, and answers the state', async () => {
    const { root } = await start();
    await removeTag(1001, 'Lead');

    const response = await fetch(`${root}/_sandbox/reset`, { method: 'POST' });
    const body = (await response.json()) as SandboxState;

    expect(response.status).toBe(200);
    expect(body.customers.find((c) => c.id === 1001)?.tags.map((t) => t.name)).toEqual(['Lead', 'Trial user']);
    expect(body.requests).toEqual([]);
    expect(sandbox!.customer(1001)?.tags).toHaveLength(2);
  });
});

describe('/_sandbox/script', () => {
  const script = (root: string, body: unknown) =>
    fetch(`${root}/_sandbox/script`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('queues scripted answers for a route, shows them in the state, and the API answers with them', async () => {
    const { root } = await start();
    const route = 'DELETE /v1/customers/:id/tags';
    const response = await script(root, { route, answers: [{ error: 'tooManyRequests', retryAfter: 5, times: 2 }] });

    expect(response.status).toBe(200);
    expect(((await response.json()) as SandboxState).scripted).toEqual([
      { route, answer: { error: 'tooManyRequests', retryAfter: 5, times: 2 }, left: 2 },
    ]);
    const limited = await removeTag(1001, 'Lead');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('5');
    expect((await state(root)).scripted).toEqual([expect.objectContaining({ left: 1 })]);
    expect((await removeTag(1001, 'Lead')).status).toBe(429);
    expect((await removeTag(1001, 'Lead')).status).toBe(200);
    expect((await state(root)).scripted).toEqual([]);
  });

  it.each([
    ['not JSON', '{"answers":', 'the body must be JSON of at most 64 KiB'],
    ['no answers', { route: '*' }, 'the body must be {"route"?: …, "answers": [at least one answer]}'],
    [
      'an unknown route',
      { route: 'GET /v2/x', answers: [{ drop: true }] },
      "route must be '*' or one of GET /v1/customers",
    ],
    ['a malformed answer', { answers: [{ status: 700 }] }, 'status must be an integer 200-599'],
  ])('refuses %s with 400 and the reason, queuing nothing', async (_case, body, reason) => {
    const { root } = await start();
    const response = await script(root, body);

    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain(reason);
    expect((await state(root)).scripted).toEqual([]);
  });

  it('DELETE forgets the queued answers and lets stalled requests go on; reset forgets them too', async () => {
    const { root } = await start();
    await script(root, { answers: [{ stall: true }, { drop: true, times: 'always' }] });
    const stalled = removeTag(1001, 'Lead');
    await expect.poll(() => sandbox!.stalled()).toBe(1);

    const response = await fetch(`${root}/_sandbox/script`, { method: 'DELETE' });

    expect(((await response.json()) as SandboxState).scripted).toEqual([]);
    expect((await stalled).status).toBe(200);
    await script(root, { answers: [{ drop: true }] });
    await fetch(`${root}/_sandbox/reset`, { method: 'POST' });
    expect((await removeTag(1001, 'Lead')).status).toBe(200);
  });
});

describe('the queues panel (npm start in queue mode)', () => {
  let sqs: SqsEndpoint | undefined;
  afterEach(async () => {
    await sqs?.close();
    sqs = undefined;
  });

  type QueueDepths = { queues: { name: string; visible: number; inFlight: number; delayed: number }[] };

  it('the page follows ?sqs=<local SQS> for the queues (tests/sandbox-page-e2e.test.ts shows it in a browser)', async () => {
    const { root } = await start();
    const html = await (await fetch(`${root}/`)).text();

    expect(html).toContain("new URLSearchParams(location.search).get('sqs')");
    expect(html).toContain('`${sqsUrl}/_local/queues/events`');
  });

  it('the local SQS serves each queue’s depth to the page, live, across origins', async () => {
    sqs = await startSqsEndpoint({
      queues: [
        { name: 'jobs-dlq', visibilityTimeoutSeconds: 30 },
        { name: 'jobs', visibilityTimeoutSeconds: 30 },
      ],
    });
    const snapshot = await fetch(`${sqs.url}/_local/queues`);
    expect(snapshot.headers.get('access-control-allow-origin')).toBe('*');
    expect(await snapshot.json()).toEqual({
      queues: [
        { name: 'jobs-dlq', visible: 0, inFlight: 0, delayed: 0 },
        { name: 'jobs', visible: 0, inFlight: 0, delayed: 0 },
      ],
    });

    const stream = await fetch(`${sqs.url}/_local/queues/events`);
    expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers.get('access-control-allow-origin')).toBe('*');
    const events = sseEvents<QueueDepths>(stream, 'queues');
    await events.next();

    await sqs.model.sendMessage({ QueueUrl: sqs.queueUrl('jobs'), MessageBody: 'job' });
    sqs.model.receive(sqs.queueUrl('jobs'), 1);
    let latest = await events.next();
    while (latest.queues[1]!.inFlight === 0) latest = await events.next();
    expect(latest.queues[1]).toEqual({ name: 'jobs', visible: 0, inFlight: 1, delayed: 0 });
    await events.cancel();
  });
});
