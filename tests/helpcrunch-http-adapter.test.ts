import {
  createServer,
  STATUS_CODES,
  type ClientRequest,
  type IncomingMessage,
  type RequestListener,
  type Server,
} from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import axios, { type AxiosError, type CreateAxiosDefaults } from 'axios';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNodeHttpAdapter } from '../lib/http/transport';
import {
  startHelpCrunchSandbox,
  type HelpCrunchSandbox,
  type SandboxAnswer,
} from '../local/sandbox/helpcrunch-sandbox';

const bearer = 'Bearer hc_live_adapter_s3cr3t';
// Well past the client timeouts below, so a test that waited for the server would show it.
const slowMs = 1_500;
const timeoutMs = 100;

/** An axios instance over the adapter under test, shaped like the one in lib/helpcrunch/client.ts. */
const instance = (defaults: CreateAxiosDefaults = {}) =>
  axios.create({ adapter: createNodeHttpAdapter(), ...defaults });

async function failure(promise: Promise<unknown>): Promise<AxiosError> {
  try {
    await promise;
  } catch (error) {
    expect(axios.isAxiosError(error)).toBe(true);
    return error as AxiosError;
  }
  throw new Error('expected the request to fail');
}

/** Whether `error` would let a log line or a stack trace leak the bearer token. */
function expectNoBearer(error: Error) {
  for (const text of [error.message, error.stack ?? '']) {
    expect(text).not.toContain(bearer);
    expect(text).not.toContain('hc_live_adapter_s3cr3t');
  }
}

describe('Node HTTP adapter for axios', () => {
  // The sandbox answers on its own only the DELETE below; every other answer is scripted.
  let sandbox: HelpCrunchSandbox;
  const answers = (...scripted: SandboxAnswer[]) => sandbox.script('*', ...scripted);
  /** The sandbox without its /v1 prefix: paths below are recorded as sent. */
  const origin = () => new URL(sandbox.url).origin;
  // Plain servers for what the sandbox cannot do: its own status text, a body trickled in chunks, a
  // look at the server's side of a socket, a refused connection; raw TCP where HTTP cannot misbehave enough.
  const servers: Server[] = [];
  const timers = new Set<NodeJS.Timeout>();

  /** A timer the servers below use to stall; afterEach clears it so no test waits for a stall. */
  const later = (ms: number, run: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  };

  /** Whether the server's side of `socket` closes within `ms`: the client hung up rather than waiting on. */
  const closesWithin = (socket: Socket, ms: number) =>
    new Promise<boolean>((resolve) => {
      if (socket.destroyed) return resolve(true);
      socket.once('close', () => resolve(true));
      later(ms, () => resolve(false));
    });

  async function serve(handler: RequestListener): Promise<{ url: string; seen: IncomingMessage[] }> {
    const seen: IncomingMessage[] = [];
    const server = createServer((request, response) => {
      seen.push(request);
      handler(request, response);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
  }

  beforeEach(async () => {
    sandbox = await startHelpCrunchSandbox({
      apiKey: bearer.slice('Bearer '.length),
      customers: [{ id: 42, email: null, userId: null, name: null, tags: [{ name: 'trial', color: '#fff' }] }],
    });
  });
  afterEach(async () => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    const closing = servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    await Promise.all([sandbox.close(), ...closing]);
  });

  describe('request', () => {
    it('sends a DELETE with its JSON body, an exact byte Content-Length, and the default and per-request headers', async () => {
      const http = instance({ headers: { 'User-Agent': 'helpcrunch-untag', Accept: 'application/json' } });
      // The non-ASCII tag makes the byte count differ from the character count.
      const data = { tags: [{ name: 'trial' }, { name: 'vïp-ü' }] };

      await http.delete(`${sandbox.url}/customers/42/tags`, {
        data,
        headers: { Authorization: bearer, 'X-Request-Id': 'req-1' },
      });

      expect(sandbox.requests).toHaveLength(1);
      const [request] = sandbox.requests;
      expect(request).toMatchObject({ method: 'DELETE', path: '/v1/customers/42/tags', body: data });
      expect(request!.headers).toMatchObject({
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(JSON.stringify(data))),
        'user-agent': 'helpcrunch-untag',
        accept: 'application/json',
        authorization: bearer,
        'x-request-id': 'req-1',
      });
      // The adapter reads bodies as they come, so it must not invite a compressed answer.
      expect(request!.headers).not.toHaveProperty('accept-encoding');
      expect(request!.headers).not.toHaveProperty('transfer-encoding');
    });

    it('sends a GET without a body or body headers', async () => {
      answers({ status: 200 });
      await instance().get(`${sandbox.url}/customers/7`);

      const [request] = sandbox.requests;
      expect(request).toMatchObject({ method: 'GET', path: '/v1/customers/7', body: '' });
      expect(request!.headers).not.toHaveProperty('content-length');
      expect(request!.headers).not.toHaveProperty('transfer-encoding');
    });
  });

  describe('response', () => {
    it('hands back the JSON answer parsed, with its status, status text and headers', async () => {
      const body = { data: { id: 42, tags: [{ name: 'trial' }] } };
      answers({
        status: 201,
        body,
        headers: { 'content-type': 'application/json', 'retry-after': '7', 'x-ratelimit-remaining': '99' },
      });

      const response = await instance().post(`${sandbox.url}/customers`, { id: 42 });

      expect(response.data).toEqual(body);
      expect(response.status).toBe(201);
      expect(response.statusText).toBe(STATUS_CODES[201]);
      expect(response.headers['retry-after']).toBe('7');
      expect(response.headers['x-ratelimit-remaining']).toBe('99');
      expect(response.headers['content-type']).toBe('application/json');
    });

    it('passes a server’s own status text through', async () => {
      const { url } = await serve((_request, response) => {
        response.writeHead(200, 'Tags Gone', { 'content-type': 'application/json' });
        response.end('{}');
      });
      expect((await instance().get(url)).statusText).toBe('Tags Gone');
    });

    it('returns a body that is not JSON as a string', async () => {
      const text = '<html><body>502 upstream busy</body></html>';
      answers({ status: 200, body: text, headers: { 'content-type': 'text/html' } });

      const response = await instance().get(sandbox.url);
      expect(typeof response.data).toBe('string');
      expect(response.data).toBe(text);
    });

    it('returns an empty body as an empty string', async () => {
      answers({ status: 204 });
      const response = await instance().delete(`${sandbox.url}/customers/1/tags`);
      expect(response.status).toBe(204);
      expect(response.data).toBe('');
    });

    it('decodes UTF-8 whose characters are split across chunks', async () => {
      const body = { name: 'Zoë Ångström 😀' };
      const bytes = Buffer.from(JSON.stringify(body));
      // Cut inside the two-byte "ë": decoding chunk by chunk would garble it.
      const cut = bytes.indexOf(Buffer.from('ë')) + 1;
      const { url } = await serve((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write(bytes.subarray(0, cut));
        later(20, () => response.end(bytes.subarray(cut)));
      });

      expect((await instance().get(url)).data).toEqual(body);
    });
  });

  describe('validateStatus', () => {
    it.each([
      [400, 'ERR_BAD_REQUEST'],
      [404, 'ERR_BAD_REQUEST'],
      [499, 'ERR_BAD_REQUEST'],
      [500, 'ERR_BAD_RESPONSE'],
      [503, 'ERR_BAD_RESPONSE'],
    ])('rejects %i under axios’s default validateStatus with %s and the response attached', async (status, code) => {
      const body = { errors: [{ code: 'nope', message: `status ${status}` }] };
      answers({ status, body });

      const error = await failure(instance().get(`${sandbox.url}/customers/7`));

      expect(error.code).toBe(code);
      expect(error.message).toBe(`Request failed with status code ${status}`);
      expect(error.response?.status).toBe(status);
      expect(error.response?.data).toEqual(body);
      expect(sandbox.requests).toHaveLength(1);
    });

    it('resolves the same statuses when validateStatus accepts everything, as the client configures it', async () => {
      answers({ status: 404, body: { errors: [] } }, { status: 503 });
      const http = instance({ validateStatus: () => true });

      expect((await http.get(`${sandbox.url}/a`)).status).toBe(404);
      expect((await http.get(`${sandbox.url}/b`)).status).toBe(503);
    });

    it('uses a per-request validateStatus over the instance’s', async () => {
      answers({ status: 404 });
      const http = instance({ validateStatus: () => true });
      const error = await failure(http.get(`${sandbox.url}/a`, { validateStatus: (status) => status < 400 }));
      expect(error.response?.status).toBe(404);
    });

    it('returns a 3xx as it is, without following the redirect', async () => {
      // Followed, /new would get the sandbox's own answer, and show in its requests.
      answers({ status: 302, headers: { location: '/new' }, body: 'moved' });

      const response = await instance({ validateStatus: () => true }).get(`${origin()}/old`);

      expect(response.status).toBe(302);
      expect(response.headers.location).toBe('/new');
      expect(response.data).toBe('moved');
      expect(sandbox.requests.map((request) => request.path)).toEqual(['/old']);
    });

    it('rejects a 3xx under axios’s default validateStatus, still without following it', async () => {
      answers({ status: 301, headers: { location: '/new' } });

      const error = await failure(instance().get(`${origin()}/old`));

      expect(error.code).toBe('ERR_BAD_REQUEST');
      expect(error.response?.status).toBe(301);
      expect(sandbox.requests.map((request) => request.path)).toEqual(['/old']);
    });
  });

  describe('timeout', () => {
    it('gives up at the deadline with ECONNABORTED and axios’s timeout message', async () => {
      answers({ status: 200, delayMs: slowMs });
      const started = Date.now();

      const error = await failure(instance().get(`${sandbox.url}/slow`, { timeout: timeoutMs }));

      expect(error.code).toBe('ECONNABORTED');
      expect(error.message).toBe(`timeout of ${timeoutMs}ms exceeded`);
      expect(error.response).toBeUndefined();
      // Rejected at the deadline, not when the server finally answered.
      expect(Date.now() - started).toBeGreaterThanOrEqual(timeoutMs - 5);
      expect(Date.now() - started).toBeLessThan(slowMs / 2);
    });

    it('reports ETIMEDOUT instead when transitional.clarifyTimeoutError is set', async () => {
      answers({ status: 200, delayMs: slowMs });
      const http = instance({ transitional: { clarifyTimeoutError: true } });

      const error = await failure(http.get(`${sandbox.url}/slow`, { timeout: timeoutMs }));

      expect(error.code).toBe('ETIMEDOUT');
      expect(error.message).toBe(`timeout of ${timeoutMs}ms exceeded`);
    });

    it('uses timeoutErrorMessage when one is set', async () => {
      answers({ status: 200, delayMs: slowMs });

      const error = await failure(
        instance().get(`${sandbox.url}/slow`, { timeout: timeoutMs, timeoutErrorMessage: 'HelpCrunch too slow' }),
      );

      expect(error.code).toBe('ECONNABORTED');
      expect(error.message).toBe('HelpCrunch too slow');
    });

    it('holds the whole exchange to the deadline, the body included', async () => {
      // Headers and half the body arrive at once; the rest never does.
      answers({ cutShort: 'stall' });
      const started = Date.now();

      const error = await failure(instance().get(sandbox.url, { timeout: timeoutMs }));

      expect(error.code).toBe('ECONNABORTED');
      expect(Date.now() - started).toBeLessThan(slowMs / 2);
    });

    it('does not time out an answer that arrives in time', async () => {
      answers({ status: 200, body: { ok: true }, delayMs: 20 });
      const response = await instance().get(`${sandbox.url}/quick`, { timeout: 1_000 });
      expect(response.data).toEqual({ ok: true });
    });

    it('hangs up the timed-out connection, and the next request gets a fresh one and succeeds', async () => {
      let hungUp: Promise<boolean> | undefined;
      const { url, seen } = await serve((request, response) => {
        if (request.url === '/slow') {
          hungUp = closesWithin(request.socket, slowMs / 2);
          later(slowMs, () => response.end('{}'));
        } else {
          response.writeHead(200, { 'content-type': 'application/json' }).end('{"second":true}');
        }
      });
      const http = instance();

      await failure(http.get(`${url}/slow`, { timeout: timeoutMs }));
      // Left open, the socket would sit in the pool's busy list until the server finally answered.
      expect(await hungUp).toBe(true);
      const response = await http.get(`${url}/next`, { timeout: 1_000 });

      expect(response.data).toEqual({ second: true });
      expect(seen.map((request) => request.url)).toEqual(['/slow', '/next']);
    });
  });

  describe('connection failures', () => {
    it('rejects with ECONNREFUSED when nothing listens', async () => {
      const { url } = await serve(() => undefined);
      const server = servers.pop()!;
      await new Promise<void>((resolve) => server.close(() => resolve()));

      const error = await failure(instance().get(`${url}/customers`, { timeout: 1_000 }));

      expect(error.code).toBe('ECONNREFUSED');
      expect(error.response).toBeUndefined();
    });

    it('rejects with ECONNRESET when the server drops the connection without answering', async () => {
      answers({ drop: true });

      const error = await failure(instance().get(`${sandbox.url}/customers`, { timeout: 1_000 }));

      expect(error.code).toBe('ECONNRESET');
      expect(error.response).toBeUndefined();
      expect(sandbox.requests).toHaveLength(1);
    });

    it('rejects an answer cut off mid-body instead of returning part of it', { timeout: 5_000 }, async () => {
      answers({ cutShort: 'close' });

      // No timeout: the cut itself has to end the request.
      const error = await failure(instance().get(sandbox.url));

      expect(error.response).toBeUndefined();
      expect(error.code).toBeTruthy();
    });
  });

  describe('maxContentLength', () => {
    const limit = 1_024;
    const answerWith = (bytes: number) =>
      serve((_request, response) => {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end('x'.repeat(bytes));
      });

    it('accepts a body of exactly the limit', async () => {
      const { url } = await answerWith(limit);
      const response = await instance({ maxContentLength: limit }).get(url);
      expect(response.data).toHaveLength(limit);
    });

    it('rejects a body one byte over the limit with ERR_BAD_RESPONSE', async () => {
      const { url } = await answerWith(limit + 1);

      const error = await failure(instance({ maxContentLength: limit }).get(url));

      expect(error.code).toBe('ERR_BAD_RESPONSE');
      expect(error.message).toBe(`maxContentLength size of ${limit} exceeded`);
      expect(error.response).toBeUndefined();
    });

    it('hangs up on a large body instead of reading it all, and leaves the instance usable', async () => {
      const large = await answerWith(4 * 1024 * 1024);
      const http = instance({ maxContentLength: limit });

      const error = await failure(http.get(large.url));
      expect(error.message).toContain('maxContentLength');
      // Read to the end, the connection would go back to the pool and stay open.
      expect(await closesWithin(large.seen[0]!.socket, 1_000)).toBe(true);

      answers({ status: 200, body: { after: true } });
      expect((await http.get(`${sandbox.url}/after`)).data).toEqual({ after: true });
    });

    it('sets no limit under axios’s default (-1)', async () => {
      const bytes = 2 * 1024 * 1024;
      const { url } = await answerWith(bytes);
      expect((await instance().get(url)).data).toHaveLength(bytes);
    });
  });

  describe('keep-alive', () => {
    it('sends sequential requests of one instance over the same connection', async () => {
      answers({ status: 200, body: {}, times: 2 });
      const http = instance();
      await http.delete(`${sandbox.url}/customers/1/tags`, { data: { tags: [{ name: 'trial' }] } });
      await http.get(`${sandbox.url}/customers/2`);

      expect(sandbox.requests).toHaveLength(2);
      expect(sandbox.requests[0]!.remotePort).toBeDefined();
      expect(sandbox.requests[1]!.remotePort).toBe(sandbox.requests[0]!.remotePort);
    });

    /**
     * A server that answers on a request's head, then reads its body only `readBodyAfterMs` later
     * (or never): the answer has ended while the client is still writing.
     */
    async function answerOnHead(readBodyAfterMs: number | undefined) {
      const ok =
        'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: keep-alive\r\n\r\n{"ok":true}';
      const sockets: Socket[] = [];
      const server = createTcpServer((socket) => {
        sockets.push(socket);
        let pending = Buffer.alloc(0);
        let bodyLeft = 0;
        socket.on('data', (chunk: Buffer) => {
          pending = Buffer.concat([pending, chunk]);
          for (;;) {
            const skipped = Math.min(bodyLeft, pending.length);
            bodyLeft -= skipped;
            pending = pending.subarray(skipped);
            const headEnd = bodyLeft > 0 ? -1 : pending.indexOf('\r\n\r\n');
            if (headEnd < 0) return;
            bodyLeft = Number(
              /content-length: *(\d+)/i.exec(pending.subarray(0, headEnd).toString('latin1'))?.[1] ?? 0,
            );
            pending = pending.subarray(headEnd + 4);
            socket.write(ok);
            if (bodyLeft > 0) {
              socket.pause();
              if (readBodyAfterMs !== undefined) later(readBodyAfterMs, () => socket.resume());
            }
          }
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        sockets,
        close: async () => {
          for (const socket of sockets) socket.destroy();
          await new Promise((resolve) => server.close(resolve));
        },
      };
    }
    // Far more than the socket buffers hold, so the write cannot finish while the server waits.
    const largeBody = () => Buffer.alloc(16 * 1024 * 1024, 'a');
    const binary = { headers: { 'Content-Type': 'application/octet-stream' } };

    it('keeps the connection for the next request when the answer ends before the request is written', async () => {
      // Node returns the socket to the pool only once the request is written; a next request sent
      // before then would open a new connection.
      const server = await answerOnHead(200);
      try {
        const http = instance();
        expect((await http.post(`${server.url}/customers/search`, largeBody(), binary)).data).toEqual({ ok: true });
        expect((await http.get(`${server.url}/customers/1`)).data).toEqual({ ok: true });

        expect(server.sockets).toHaveLength(1);
      } finally {
        await server.close();
      }
    });

    it('gives the whole answer at the deadline when the rest of the request is never read', async () => {
      const server = await answerOnHead(undefined);
      try {
        const started = performance.now();
        const answer = await instance({ timeout: timeoutMs }).post(
          `${server.url}/customers/search`,
          largeBody(),
          binary,
        );

        expect(answer.data).toEqual({ ok: true });
        expect(performance.now() - started).toBeGreaterThanOrEqual(timeoutMs - 1);
        // The half-sent request's connection is not kept for another request.
        expect((answer.request as ClientRequest).socket!.destroyed).toBe(true);
      } finally {
        await server.close();
      }
    });

    it('keeps the connection after a non-2xx answer', async () => {
      answers({ status: 404, body: { errors: [] } }, { status: 200 });
      const http = instance();

      await failure(http.get(`${sandbox.url}/missing`));
      await http.get(`${sandbox.url}/present`);

      expect(sandbox.requests[1]!.remotePort).toBe(sandbox.requests[0]!.remotePort);
    });
  });

  describe('URLs', () => {
    it.each([
      ['a relative URL', () => '/v1/customers'],
      ['an ftp URL', () => sandbox.url.replace(/^http:/, 'ftp:')],
      ['a URL that does not parse', () => 'http://'],
    ])('refuses %s with ERR_INVALID_URL and sends nothing', async (_name, url) => {
      const error = await failure(instance().get(url()));

      expect(error.code).toBe('ERR_INVALID_URL');
      expect(sandbox.requests).toHaveLength(0);
    });

    it('does not combine baseURL with a relative URL (pass an absolute URL)', async () => {
      const error = await failure(instance({ baseURL: sandbox.url }).get('/customers'));

      expect(error.code).toBe('ERR_INVALID_URL');
      expect(sandbox.requests).toHaveLength(0);
    });
  });

  describe('options it cannot honour', () => {
    it.each([
      ['params', { params: { page: 2 } }, 'params'],
      ['auth', { auth: { username: 'u', password: 'p' } }, 'auth'],
      ['a binary responseType', { responseType: 'arraybuffer' as const }, "responseType 'arraybuffer'"],
      ['an AbortSignal', { signal: new AbortController().signal }, 'cancellation'],
    ])('refuses %s with ERR_BAD_OPTION instead of dropping it, and sends nothing', async (_name, options, named) => {
      const error = await failure(instance().get(`${sandbox.url}/customers`, options));

      expect(error.code).toBe('ERR_BAD_OPTION');
      expect(error.message).toBe(`This adapter does not support ${named}`);
      expect(sandbox.requests).toHaveLength(0);
    });

    it('takes responseType json and text, which only say how axios reads the answer', async () => {
      answers({ status: 200, body: { ok: true } }, { status: 200, body: { ok: true } });

      expect((await instance().get(`${sandbox.url}/a`, { responseType: 'json' })).data).toEqual({ ok: true });
      expect((await instance().get(`${sandbox.url}/b`, { responseType: 'text' })).data).toBe('{"ok":true}');
    });

    it('enforces maxBodyLength before sending', async () => {
      const error = await failure(
        instance({ maxBodyLength: 10 }).post(`${sandbox.url}/customers/search`, { filter: 'longer than ten bytes' }),
      );

      expect(error.code).toBe('ERR_BAD_REQUEST');
      expect(error.message).toBe('Request body larger than maxBodyLength limit');
      expect(sandbox.requests).toHaveLength(0);
    });
  });

  describe('errors', () => {
    const fails: [string, (http: ReturnType<typeof instance>) => Promise<unknown>][] = [
      ['a refused status', (http) => (answers({ status: 401 }), http.get(`${sandbox.url}/a`))],
      [
        'a timeout',
        (http) => (answers({ status: 200, delayMs: slowMs }), http.get(`${sandbox.url}/a`, { timeout: timeoutMs })),
      ],
      ['a reset connection', (http) => (answers({ drop: true }), http.get(`${sandbox.url}/a`))],
      [
        'a body over maxContentLength',
        (http) => (
          answers({ status: 200, body: 'x'.repeat(100) }), http.get(`${sandbox.url}/a`, { maxContentLength: 10 })
        ),
      ],
      ['an invalid URL', (http) => http.get('/relative')],
    ];

    it.each(fails)('keeps the Authorization value out of the message and stack on %s', async (_name, run) => {
      const http = instance({ headers: { Authorization: bearer } });

      const error = await failure(run(http));

      expectNoBearer(error);
      // axios's own config rides along (the client never lets it escape); the adapter adds nothing to the text.
      expect(error.config?.headers.Authorization).toBe(bearer);
    });

    it('keeps the Authorization value out of a refused connection’s message', async () => {
      const { url } = await serve(() => undefined);
      const server = servers.pop()!;
      await new Promise<void>((resolve) => server.close(() => resolve()));

      const error = await failure(instance({ headers: { Authorization: bearer } }).get(url));

      expect(error.code).toBe('ECONNREFUSED');
      expectNoBearer(error);
    });
  });
});
