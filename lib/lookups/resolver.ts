/**
 * Turns a sender's own id (Stripe `cus_…`, a Pipedrive person id, a HubSpot deal id) into the
 * HelpCrunch references its API knows for it, as rules.yml `lookups` declare. One resolver per
 * container: its answers are cached (bounded, `cacheSeconds` each) and concurrent resolves of the
 * same id share one request. A lookup that fails throws; only a real "no such record" or an empty
 * selection comes back as `refs: []`.
 */
import { textReferenceProblem } from '../customer-refs';
import { BadEventError, ConfigError } from '../errors';
import type { RetryBudget, RetryPolicy } from '../http/retry';
import type { LookupConfig } from '../rules/types';
import { authorize, type LookupRequest } from './auth';
import { LookupCache } from './cache';
import { genericRequest, selectRefs } from './generic';
import { createLookupTransport, type LookupSend, type SecretSource } from './http';
import { PRESETS } from './presets';
import { presetApi } from './presets/preset';
import { MAX_REFS, type DirectRef } from './refs';

export type { DirectRef } from './refs';

export interface LookupResult {
  /** Empty: the sender has no such record, or it names no customer. */
  refs: DirectRef[];
  /** HTTP requests this call made (retries included); 0 when answered from the cache or by a shared request. */
  requests: number;
}

export interface LookupResolver {
  /**
   * Throws RetryableError lookup_unavailable, ConfigError lookup_unauthorized | lookup_failed | lookup_unknown,
   * BadEventError invalid_customer | lookup_too_many. Errors raised once the lookup ran carry `requests`
   * too (UntagError.requests).
   */
  resolve(lookup: string, id: string, options: { budget: RetryBudget }): Promise<LookupResult>;
}

export interface LookupResolverOptions {
  lookups: Record<string, LookupConfig>;
  secrets: SecretSource;
  /** One request's timeout (default 5000 ms, as HelpCrunch calls). */
  timeoutMs?: number;
  retryPolicy?: RetryPolicy;
  now?: () => number;
  /** Most answers kept (default 1000). */
  cacheEntries?: number;
  /** Backoff waits and jitter, for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** The id as the lookup will send it, or a BadEventError: it becomes one URL path segment or query value. */
function checkId(lookup: string, id: string): void {
  const problem = textReferenceProblem(id, 'lookup');
  if (problem) throw new BadEventError('invalid_customer', `Lookup "${lookup}": the id ${problem}`);
}

async function lookUp(lookup: string, config: LookupConfig, id: string, send: LookupSend): Promise<DirectRef[]> {
  if ('url' in config) {
    const answer = await send((secret) => authorize(lookup, config.auth, secret, genericRequest(config, id)));
    return selectRefs(lookup, config, answer);
  }
  const preset = PRESETS[config.preset];
  const request = (method: LookupRequest['method'], url: URL, body?: unknown) =>
    send((secret) => authorize(lookup, preset.auth, secret, { method, url, headers: {}, body }));
  return preset.resolve(id, presetApi(lookup, preset.vendor, config.baseUrl ?? preset.defaultBaseUrl, request));
}

export function createLookupResolver(options: LookupResolverOptions): LookupResolver {
  const { lookups, secrets, timeoutMs = 5_000, retryPolicy, now = () => Date.now(), cacheEntries = 1_000 } = options;
  const transport = createLookupTransport({
    secrets,
    timeoutMs,
    retryPolicy,
    now,
    sleep: options.sleep,
    random: options.random,
  });
  const cache = new LookupCache<DirectRef[]>(cacheEntries, now);
  const inFlight = new Map<string, Promise<LookupResult>>();

  async function run(
    lookup: string,
    config: LookupConfig,
    id: string,
    key: string,
    budget: RetryBudget,
  ): Promise<LookupResult> {
    const { value: refs, requests } = await transport(lookup, config.secretId, budget, async (send) => {
      const found = await lookUp(lookup, config, id, send);
      if (found.length > MAX_REFS) {
        const problem = `Lookup "${lookup}" names ${found.length} customers, more than the ${MAX_REFS} one event may change`;
        throw new BadEventError('lookup_too_many', problem);
      }
      return found;
    });
    // Only finds are kept: a record created a moment later must not stay "not found" for cacheSeconds.
    if (config.cacheSeconds > 0 && refs.length > 0) cache.set(key, refs, config.cacheSeconds * 1000);
    return { refs: [...refs], requests };
  }

  return {
    async resolve(lookup, id, { budget }) {
      const config = Object.hasOwn(lookups, lookup) ? lookups[lookup] : undefined;
      if (!config) throw new ConfigError(`Lookup "${lookup}" is not configured in rules.yml`, 'lookup_unknown');
      checkId(lookup, id);
      const key = `${lookup}\u0000${id}`;
      const cached = config.cacheSeconds > 0 ? cache.get(key) : undefined;
      if (cached) return { refs: [...cached], requests: 0 };
      const pending = inFlight.get(key);
      if (pending) return pending.then(({ refs }) => ({ refs: [...refs], requests: 0 }));
      const started = run(lookup, config, id, key, budget).finally(() => inFlight.delete(key));
      inFlight.set(key, started);
      return started;
    },
  };
}
