/**
 * Per-container wiring from the environment. Built on the first invocation rather than at import,
 * so a misconfiguration answers with a clear ConfigError instead of a failed cold start.
 */
import { readConfig, type RuntimeConfig } from './config';
import { ConfigError } from './errors';
import { parseApiUrl } from './helpcrunch/api-url';
import { createHelpCrunchClient } from './helpcrunch/client';
import type { RuleSet } from './rules/match';
import { createSecretCache, parseApiKeySecret } from './secrets';
import { createUntagService, type UntagService } from './untag-service';

export interface Runtime {
  config: RuntimeConfig;
  service: UntagService;
}

export function createRuntime(rules: RuleSet, env: NodeJS.ProcessEnv = process.env): Runtime {
  const config = readConfig(env);
  const secrets = createSecretCache({ ttlMs: config.secretTtlMs });
  const { apiKeySecretId } = config;
  const helpcrunch = createHelpCrunchClient({
    baseUrl: parseApiUrl(config.apiUrl),
    timeoutMs: config.requestTimeoutMs,
    apiKey: {
      async get(options) {
        if (!apiKeySecretId) throw new ConfigError('HELPCRUNCH_API_KEY_SECRET_ID is not set');
        return parseApiKeySecret(await secrets.get(apiKeySecretId, options));
      },
    },
  });
  return { config, service: createUntagService({ rules, helpcrunch, secrets }) };
}

/** Memoises a successful createRuntime; a failed one is retried on the next invocation. */
export function lazyRuntime(rules: RuleSet): () => Runtime {
  let runtime: Runtime | undefined;
  return () => (runtime ??= createRuntime(rules));
}
