/**
 * The one service function each trigger calls: verify, normalise, match rules, dispatch.
 * Adapters parse their trigger into its input and shape its result into their reply.
 * Dispatch is where the jobs go: straight to HelpCrunch (inline), or onto the jobs queue for the
 * paced worker (queue, see lib/queue/enqueue.ts).
 */
import { randomUUID } from 'node:crypto';
import { MethodNotAllowedError, UnknownSourceError } from './errors';
import type { HelpCrunchClient } from './helpcrunch/client';
import type { HttpRequest } from './http-event';
import { executeJobs, type PipelineResult } from './pipeline';
import type { JobOrigin } from './queue/job-message';
import type { RetryBudget } from './retry';
import type { RuleSet } from './rules/match';
import type { SecretCache } from './secrets';
import type { Job } from './types';
import { verifyWebhook } from './webhook-auth';
import { parseWebhookPayloads } from './webhook-payloads';

export type DispatchResult = ({ dispatch: 'inline' } & PipelineResult) | { dispatch: 'queue'; queued: number };

/** Runs or hands off the jobs of one event. Throws only for failures of the hand-off itself. */
export type Dispatch = (jobs: Job[], origin: JobOrigin, budget: RetryBudget) => Promise<DispatchResult>;

export function inlineDispatch(helpcrunch: HelpCrunchClient): Dispatch {
  return async (jobs, _origin, budget) => ({ dispatch: 'inline', ...(await executeJobs(jobs, helpcrunch, budget)) });
}

export interface UntagServiceDeps {
  rules: RuleSet;
  secrets: SecretCache;
  dispatch: Dispatch;
}

export interface BusEvent {
  id: string;
  source: string;
  detailType: string;
  detail: unknown;
}

export interface UntagService {
  /**
   * Throws MethodNotAllowedError, UnknownSourceError, WebhookAuthError or BadEventError before any
   * job is dispatched.
   */
  handleWebhook(request: HttpRequest, budget: RetryBudget): Promise<DispatchResult>;
  handleEvent(event: BusEvent, budget: RetryBudget): Promise<DispatchResult>;
}

/** The sender's id for a webhook delivery (Standard Webhooks' webhook-id), else the gateway's request id. */
export function webhookEventId(request: HttpRequest): string | undefined {
  return request.headers['webhook-id'] ?? request.requestId;
}

export function createUntagService({ rules, secrets, dispatch }: UntagServiceDeps): UntagService {
  return {
    async handleWebhook(request, budget) {
      if (request.method !== 'POST') throw new MethodNotAllowedError(request.method);
      const source = request.source ?? '';
      const sourceConfig = rules.webhookSource(source);
      if (!sourceConfig) throw new UnknownSourceError(source);
      const { verify } = sourceConfig;
      // Stored secrets often end with a newline pasted along with them.
      const secret = verify.scheme === 'none' ? undefined : (await secrets.get(verify.secretId)).trim();
      verifyWebhook(verify, request, secret);
      // Match every payload before dispatching, so a bad element fails the batch untouched.
      const payloads = parseWebhookPayloads(request.rawBody, request.headers['content-type']);
      const jobs = payloads.flatMap((payload) => rules.matchWebhook({ source, payload, headers: request.headers }));
      return dispatch(jobs, { eventId: webhookEventId(request) ?? randomUUID(), source }, budget);
    },
    async handleEvent(event, budget) {
      return dispatch(rules.matchEvent(event), { eventId: event.id, source: event.source }, budget);
    },
  };
}
