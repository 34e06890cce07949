/**
 * The one service function each trigger calls: verify, normalise, match rules, execute.
 * Adapters parse their trigger into its input and shape its result into their reply.
 */
import { UnknownSourceError } from './errors';
import type { HelpCrunchClient } from './helpcrunch/client';
import { parseJsonPayloads, type HttpRequest } from './http-event';
import { executeJobs, type PipelineResult } from './pipeline';
import type { RetryBudget } from './retry';
import type { RuleSet } from './rules/match';
import type { SecretCache } from './secrets';
import { verifyWebhook } from './webhook-auth';

export interface UntagServiceDeps {
  rules: RuleSet;
  helpcrunch: HelpCrunchClient;
  secrets: SecretCache;
}

export interface BusEvent {
  source: string;
  detailType: string;
  detail: unknown;
}

export interface UntagService {
  /** Throws UnknownSourceError, WebhookAuthError or BadEventError before HelpCrunch is called. */
  handleWebhook(request: HttpRequest, budget: RetryBudget): Promise<PipelineResult>;
  handleEvent(event: BusEvent, budget: RetryBudget): Promise<PipelineResult>;
}

export function createUntagService({ rules, helpcrunch, secrets }: UntagServiceDeps): UntagService {
  return {
    async handleWebhook(request, budget) {
      const source = request.source ?? '';
      const sourceConfig = rules.webhookSource(source);
      if (!sourceConfig) throw new UnknownSourceError(source);
      const { verify } = sourceConfig;
      // Stored secrets often end with a newline pasted along with them.
      const secret = verify.scheme === 'none' ? undefined : (await secrets.get(verify.secretId)).trim();
      verifyWebhook(verify, request, secret);
      // Match every payload before calling HelpCrunch, so a bad element fails the batch untouched.
      const jobs = parseJsonPayloads(request.rawBody).flatMap((payload) => rules.matchWebhook(source, payload));
      return executeJobs(jobs, helpcrunch, budget);
    },
    async handleEvent(event, budget) {
      return executeJobs(rules.matchEvent(event), helpcrunch, budget);
    },
  };
}
