/**
 * The one service function each trigger calls: verify, normalise, match rules, dispatch.
 * Adapters parse their trigger into its input and shape its result into their reply.
 * Dispatch is where the jobs go: straight to HelpCrunch (inline), or onto the jobs queue for the
 * paced worker (queue): see lib/dispatch.
 */
import { randomUUID } from 'node:crypto';
import type { Dispatch, DispatchResult } from './dispatch/types';
import { ConfigError, MethodNotAllowedError, TooManyJobsError, UnknownSourceError, WebhookAuthError } from './errors';
import type { HttpRequest } from './triggers/http-event';
import { recordUnmatched } from './observability';
import type { RetryBudget } from './http/retry';
import type { RuleSet } from './rules/match';
import type { VerifyConfig } from './rules/types';
import type { SecretCache } from './secrets';
import type { BusEvent } from './triggers/bus-event';
import { unitsOf } from './pipeline/units';
import { busEventRef, webhookEvent } from './rules/identity';
import type { Unit } from './types';
import { verifyWebhook } from './webhook-auth';
import { parseWebhookPayloads } from './triggers/webhook-payloads';

export interface UntagServiceDeps {
  rules: RuleSet;
  secrets: SecretCache;
  dispatch: Dispatch;
  /** Most jobs one request or event may produce (MAX_JOBS_PER_REQUEST). */
  maxJobs: number;
  /** When an event without a time of its own is taken to have occurred: its arrival. */
  now?: () => number;
}

export interface UntagService {
  /**
   * Throws MethodNotAllowedError, UnknownSourceError, WebhookAuthError, BadEventError or
   * TooManyJobsError before any job is dispatched. A GET is answered (no jobs) only for a source
   * with `verify.answerGet`, and only when it authenticates. `onVerified` learns the (first) event's id once
   * the request is authenticated (nothing an unverified request says is trusted before).
   */
  handleWebhook(
    request: HttpRequest,
    budget: RetryBudget,
    onVerified?: (eventId: string) => void,
  ): Promise<DispatchResult>;
  handleEvent(event: BusEvent, budget: RetryBudget): Promise<DispatchResult>;
}

export function createUntagService({
  rules,
  secrets,
  dispatch,
  maxJobs,
  now = () => Date.now(),
}: UntagServiceDeps): UntagService {
  /** The source's signing secret; what goes wrong is told by the source's name, never the secret's id. */
  async function signingSecret(
    source: string,
    secretId: string,
    budget: RetryBudget,
    forceRefresh = false,
  ): Promise<string> {
    const label = `Signing secret for source '${source}'`;
    // Stored secrets often end with a newline pasted along with them.
    const secret = (await secrets.get(secretId, { budget, forceRefresh, label })).trim();
    if (!secret) throw new ConfigError(`${label} is empty`, 'secret_unreadable', `Secret '${secretId}' is empty`);
    return secret;
  }

  async function authenticate(
    source: string,
    verify: VerifyConfig,
    request: HttpRequest,
    budget: RetryBudget,
  ): Promise<void> {
    if (verify.scheme === 'none') return verifyWebhook(verify, request, undefined);
    const secret = await signingSecret(source, verify.secretId, budget);
    try {
      verifyWebhook(verify, request, secret);
    } catch (error) {
      if (!(error instanceof WebhookAuthError && error.code === 'invalid_signature')) throw error;
      // The secret may have been rotated since it was cached: read it once more. The cache allows one
      // forced read per secret per 30 s, so a flood of forged signatures costs no more than that.
      const fresh = await signingSecret(source, verify.secretId, budget, true).catch(() => secret);
      if (fresh === secret) throw error;
      verifyWebhook(verify, request, fresh);
    }
  }

  /** Checked after matching, before anything is dispatched: a signed batch must not become thousands of calls. */
  function capped(units: Unit[]): Unit[] {
    const jobs = units.reduce((count, unit) => count + unit.jobs.length, 0);
    if (jobs > maxJobs) throw new TooManyJobsError(jobs, maxJobs);
    return units;
  }

  return {
    async handleWebhook(request, budget, onVerified) {
      if (request.method !== 'POST' && request.method !== 'GET') throw new MethodNotAllowedError(request.method);
      const source = request.source ?? '';
      const sourceConfig = rules.webhookSource(source);
      if (!sourceConfig) throw new UnknownSourceError(source);
      if (request.method === 'GET') {
        // Senders that check the URL before saving it (Mailchimp): a GET that authenticates is
        // answered, and nothing else is done; sources without answerGet take POST only.
        const { verify } = sourceConfig;
        if (!('answerGet' in verify && verify.answerGet)) throw new MethodNotAllowedError(request.method);
        await authenticate(source, verify, request, budget);
        return { dispatch: 'inline', outcomes: [], requests: { helpcrunch: 0, lookups: 0 } };
      }
      await authenticate(source, sourceConfig.verify, request, budget);
      const receivedAt = now();
      // Match every payload, and read each matched one's event id and time, before dispatching:
      // a bad element fails the batch untouched.
      const payloads = parseWebhookPayloads(request.rawBody, request.headers['content-type']).map((payload) => ({
        source,
        payload,
        headers: request.headers,
      }));
      const units = payloads.flatMap((received, index) => {
        const jobs = rules.matchWebhook(received);
        if (jobs.length === 0) return [];
        const { rawBody, headers } = request;
        return unitsOf(
          webhookEvent(source, sourceConfig, { payload: received.payload, headers, rawBody, index }, receivedAt),
          jobs,
        );
      });
      // The logs' correlation id: the (first) event's id, read only now that the request is verified.
      onVerified?.(units[0]?.event.id ?? request.requestId ?? randomUUID());
      if (units.length === 0) recordUnmatched(payloads.map((payload) => rules.explainWebhook(payload)));
      return dispatch(capped(units), budget);
    },
    async handleEvent(event, budget) {
      const jobs = rules.matchEvent(event);
      if (jobs.length === 0) recordUnmatched([rules.explainEvent(event)]);
      const units = jobs.length === 0 ? [] : unitsOf(busEventRef(event, now()), jobs);
      return dispatch(capped(units), budget);
    },
  };
}
