/**
 * Scripted answers: what a stand-in does with its next requests instead of answering on its own,
 * so a test (or a developer on `npm start`) makes it misbehave on cue. The HelpCrunch sandbox,
 * the Secrets Manager endpoint and the vendor APIs share this, each with its own routes and named
 * errors (which stay in that service's documented shapes):
 *
 *   { pass: true }                       the stand-in's own answer (a placeholder in a sequence)
 *   { error: <name>, retryAfter?: s }    one of the stand-in's own error answers, as the service sends it
 *   { status, body?, headers? }          an answer the service itself never gives: a gateway's 502, a
 *                                        proxy's HTML 404, a malformed body (strings are sent as they are,
 *                                        other bodies as JSON, none as an empty body)
 *   { stall: true }                      reads the request and holds it unanswered until release() (then
 *                                        the own answer), the client hangs up, or the stand-in closes
 *   { drop: true }                       destroys the connection without an answer
 *   { cutShort: 'close' | 'stall' }      the own answer's head, announcing its whole body, and half the
 *                                        body; then the connection is closed, or left hanging
 *
 * Every answer may add `delayMs` (waited before anything else) and `times` (how many requests get
 * it; default 1, 'always' until cleared). Answers are queued per route; a request takes the first
 * of its route's queue, else the first of the '*' queue, else gets the own answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { encodeReply, type Reply, sendReply } from './http-server';

export type AnswerKind<ErrorName extends string> =
  | { pass: true }
  | { error: ErrorName; retryAfter?: number }
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { stall: true }
  | { drop: true }
  | { cutShort: 'close' | 'stall' };

export type ScriptedAnswer<ErrorName extends string = string> = AnswerKind<ErrorName> & {
  delayMs?: number;
  times?: number | 'always';
};

export interface PendingAnswer<Route extends string, ErrorName extends string> {
  route: Route | '*';
  answer: ScriptedAnswer<ErrorName>;
  /** Requests still to get it. */
  left: number | 'always';
}

export interface ScriptSpec<Route extends string, ErrorName extends string> {
  /** The routes answers may be queued for: a fixed list, or a check (e.g. any secret name). */
  routes: readonly Route[] | ((route: string) => route is Route);
  errors: readonly ErrorName[];
  /** The stand-in's own answer for one of its named errors. */
  errorReply(name: ErrorName): Reply;
}

const KINDS = ['pass', 'error', 'status', 'stall', 'drop', 'cutShort'] as const;
const MAX_DELAY_MS = 3_600_000;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isCount = (value: unknown, min: number, max: number): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;

/** Checks one answer as a caller or the control route gave it; RangeError names what is wrong. */
export function checkAnswer<ErrorName extends string>(
  value: unknown,
  errors: readonly ErrorName[],
): ScriptedAnswer<ErrorName> {
  if (!isRecord(value)) throw new RangeError('a scripted answer must be an object');
  const kinds = KINDS.filter((kind) => kind in value);
  if (kinds.length !== 1) throw new RangeError(`a scripted answer needs exactly one of ${KINDS.join(', ')}`);
  const [kind] = kinds;
  const allowed = new Set<string>([kind!, 'delayMs', 'times']);
  if (kind === 'error') allowed.add('retryAfter');
  if (kind === 'status') for (const key of ['body', 'headers']) allowed.add(key);
  const unknown = Object.keys(value).find((key) => !allowed.has(key));
  if (unknown !== undefined) throw new RangeError(`'${unknown}' does not belong in a ${kind} answer`);

  const { delayMs, times } = value;
  if (delayMs !== undefined && !isCount(delayMs, 0, MAX_DELAY_MS))
    throw new RangeError(`delayMs must be an integer 0-${MAX_DELAY_MS}`);
  if (times !== undefined && times !== 'always' && !isCount(times, 1, Number.MAX_SAFE_INTEGER))
    throw new RangeError("times must be a positive integer or 'always'");
  if ((kind === 'pass' || kind === 'stall' || kind === 'drop') && value[kind] !== true)
    throw new RangeError(`${kind} must be true`);
  if (kind === 'cutShort' && value.cutShort !== 'close' && value.cutShort !== 'stall')
    throw new RangeError("cutShort must be 'close' or 'stall'");
  if (kind === 'error') {
    if (!errors.includes(value.error as ErrorName))
      throw new RangeError(`error must be one of ${errors.join(', ')}, got ${JSON.stringify(value.error)}`);
    if (value.retryAfter !== undefined && !isCount(value.retryAfter, 0, 86_400))
      throw new RangeError('retryAfter must be whole seconds 0-86400');
  }
  if (kind === 'status') {
    if (!isCount(value.status, 200, 599)) throw new RangeError('status must be an integer 200-599');
    if ((value.status === 204 || value.status === 304) && value.body !== undefined)
      throw new RangeError(`a ${value.status} answer has no body`);
    const { headers } = value;
    if (headers !== undefined) {
      if (!isRecord(headers)) throw new RangeError('headers must be an object of strings');
      for (const [name, header] of Object.entries(headers)) {
        if (!HEADER_NAME.test(name) || typeof header !== 'string' || /[\r\n]/.test(header))
          throw new RangeError(`header '${name}' must be a token with a one-line string value`);
      }
    }
  }
  // A copy: a caller changing its object later cannot change what is queued.
  return structuredClone(value) as ScriptedAnswer<ErrorName>;
}

/** The route itself, when answers may be queued for it; RangeError naming the routes that may. */
function checkRoute<Route extends string>(route: unknown, routes: ScriptSpec<Route, string>['routes']): Route | '*' {
  if (route === '*') return route;
  if (typeof routes === 'function') {
    if (typeof route === 'string' && routes(route)) return route;
    throw new RangeError(`no route ${JSON.stringify(route)}`);
  }
  if (routes.includes(route as Route)) return route as Route;
  throw new RangeError(`route must be '*' or one of ${routes.join(', ')}`);
}

/** The route and answers of a control request's body, `{"route"?: …, "answers": […]}`; RangeError when malformed. */
export function parseScriptBody<Route extends string, ErrorName extends string>(
  body: unknown,
  spec: Pick<ScriptSpec<Route, ErrorName>, 'routes' | 'errors'>,
): { route: Route | '*'; answers: ScriptedAnswer<ErrorName>[] } {
  if (!isRecord(body) || !Array.isArray(body.answers) || body.answers.length === 0)
    throw new RangeError('the body must be {"route"?: …, "answers": [at least one answer]}');
  const route = checkRoute(body.route ?? '*', spec.routes);
  return { route, answers: body.answers.map((answer) => checkAnswer(answer, spec.errors)) };
}

/** The body announced in full, then half of it; then the connection closes or hangs. */
function sendCutShort(res: ServerResponse, reply: Reply, then: 'close' | 'stall'): void {
  const { bytes, headers } = encodeReply(reply);
  res.writeHead(reply.status, { ...headers, 'content-length': bytes.length });
  res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => {
    if (then === 'close') res.destroy();
  });
}

/**
 * One stand-in's queues of scripted answers, and the requests its stalls hold. `serve` answers a
 * request: its scripted answer if one is queued for it, else `own()` (undefined from `own` means
 * it already dealt with the connection, e.g. dropped it).
 */
export class AnswerScript<Route extends string, ErrorName extends string> {
  private readonly queues = new Map<Route | '*', PendingAnswer<Route, ErrorName>[]>();
  private readonly held = new Set<() => void>();
  private readonly shutdown = new AbortController();

  constructor(
    private readonly spec: ScriptSpec<Route, ErrorName>,
    private readonly changed: () => void = () => undefined,
  ) {}

  /** Queues `answers` for the next requests on `route` ('*': any route), after those already queued there. */
  add(route: Route | '*', answers: readonly ScriptedAnswer<ErrorName>[]): void {
    checkRoute(route, this.spec.routes);
    const checked = answers.map((answer) => checkAnswer(answer, this.spec.errors));
    const queue = this.queues.get(route) ?? [];
    for (const answer of checked) queue.push({ route, answer, left: answer.times ?? 1 });
    this.queues.set(route, queue);
    this.changed();
  }

  /** Queues what a control request's body asks for (see parseScriptBody). */
  addFromBody(body: unknown): void {
    const { route, answers } = parseScriptBody(body, this.spec);
    this.add(route, answers);
  }

  /** What is still queued, route by route. */
  pending(): PendingAnswer<Route, ErrorName>[] {
    return [...this.queues.values()].flat().map((entry) => ({ ...entry }));
  }

  /** Forgets every queued answer (held requests stay held: see release). */
  clear(): void {
    this.queues.clear();
    this.changed();
  }

  /** Requests a stall holds now. */
  stalled(): number {
    return this.held.size;
  }

  /** Lets every held request go on to the stand-in's own answer. */
  release(): void {
    for (const go of [...this.held]) go();
  }

  /** Ends delays; held requests end with their connections (the server closes those). */
  close(): void {
    this.shutdown.abort();
  }

  private take(route: Route | undefined): ScriptedAnswer<ErrorName> | undefined {
    const queue =
      (route !== undefined && this.queues.get(route)?.length ? this.queues.get(route) : undefined) ??
      this.queues.get('*');
    const entry = queue?.[0];
    if (!entry) return undefined;
    if (entry.left !== 'always' && --entry.left === 0) queue!.shift();
    this.changed();
    return entry.answer;
  }

  /** Holds the request until release() (true) or until its connection closes (false). */
  private hold(res: ServerResponse): Promise<boolean> {
    // The client may have given up during a delay: nothing is left to hold.
    if (res.destroyed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const go = () => {
        this.held.delete(go);
        resolve(true);
      };
      this.held.add(go);
      res.once('close', () => {
        if (this.held.delete(go)) resolve(false);
      });
    });
  }

  async serve(
    req: IncomingMessage,
    res: ServerResponse,
    route: Route | undefined,
    own: () => Promise<Reply | undefined>,
  ): Promise<void> {
    const answer = this.take(route);
    if (answer?.delayMs) {
      await delay(answer.delayMs, undefined, { signal: this.shutdown.signal }).catch(() => undefined);
      if (this.shutdown.signal.aborted) return;
    }
    if (answer === undefined || 'pass' in answer) return sendReply(res, await own());
    if ('drop' in answer) return void req.socket.destroy();
    if ('stall' in answer) {
      if (await this.hold(res)) sendReply(res, await own());
      return;
    }
    if ('error' in answer) {
      const reply = this.spec.errorReply(answer.error);
      const headers = { ...reply.headers };
      if (answer.retryAfter !== undefined) headers['retry-after'] = String(answer.retryAfter);
      return sendReply(res, { ...reply, headers });
    }
    if ('status' in answer) return sendReply(res, answer);
    const reply = await own();
    if (reply && !res.headersSent && !res.destroyed) sendCutShort(res, reply, answer.cutShort);
  }
}
