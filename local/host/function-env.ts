/**
 * Where the local functions send their calls, and the environment they get for it. Locally run
 * functions read the same variables as in Lambda; only their values differ:
 *
 *   sandbox   (HELPCRUNCH_API_URL unset): the HelpCrunch sandbox, the local Secrets Manager
 *             endpoint, with dummy AWS credentials that nothing outside this machine accepts, and
 *             every lookup pointed at the vendor API stand-ins (LOOKUP_ORIGINS);
 *   external  (HELPCRUNCH_API_URL set):   that API, with the key read from the secret
 *             HELPCRUNCH_API_KEY_SECRET_ID through whatever AWS credentials and region the
 *             environment provides; nothing local is started.
 */
import { UsageError } from '../sandbox/cli-options';

export type Target = { kind: 'sandbox' } | { kind: 'external'; apiUrl: string; apiKeySecretId: string };

/** The secret id the local stack stores the sandbox's key under (serverless.yml's default). */
export const LOCAL_API_KEY_SECRET_ID = 'helpcrunch-untag/api-key';

export function targetFrom(env: NodeJS.ProcessEnv): Target {
  const apiUrl = env.HELPCRUNCH_API_URL?.trim();
  if (!apiUrl) return { kind: 'sandbox' };
  const apiKeySecretId = env.HELPCRUNCH_API_KEY_SECRET_ID?.trim();
  if (!apiKeySecretId) {
    throw new UsageError(
      'HELPCRUNCH_API_URL is set, so the real HelpCrunch is called: also set HELPCRUNCH_API_KEY_SECRET_ID ' +
        'to the Secrets Manager secret holding the API key (and provide AWS credentials and AWS_REGION), ' +
        'or unset HELPCRUNCH_API_URL to use the sandbox',
    );
  }
  return { kind: 'external', apiUrl, apiKeySecretId };
}

export interface LocalEndpoints {
  helpcrunchUrl: string;
  secretsManagerUrl: string;
  /** Lookup name -> the stand-in origin its requests go to. */
  lookupOrigins: Record<string, string>;
}

// Settings that would make the SDK look past the dummy keys (a named profile disables the
// environment credentials) or past the local endpoint.
const REAL_AWS_SETTINGS = [
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_SESSION_TOKEN',
  'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
];

/** The environment every local function starts with: `base` (the caller's), pointed at `local` when given. */
export function functionEnv(base: NodeJS.ProcessEnv, local?: LocalEndpoints): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) if (value !== undefined) env[name] = value;
  // Lambda prints each log entry as one JSON line; POWERTOOLS_DEV would pretty-print them over several.
  delete env.POWERTOOLS_DEV;
  if (!local) return env;
  for (const name of REAL_AWS_SETTINGS) delete env[name];
  return {
    ...env,
    HELPCRUNCH_API_URL: local.helpcrunchUrl,
    HELPCRUNCH_API_KEY_SECRET_ID: LOCAL_API_KEY_SECRET_ID,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: local.secretsManagerUrl,
    LOOKUP_ORIGINS: JSON.stringify(local.lookupOrigins),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local-sandbox',
    AWS_SECRET_ACCESS_KEY: 'local-sandbox',
  };
}
