/**
 * Everything `npm start` runs, in one call that tests use too: the HelpCrunch sandbox and a
 * Secrets Manager endpoint holding its key and a demo secret for every webhook source (unless
 * HELPCRUNCH_API_URL points elsewhere, see function-env.ts), the functions, and the host in front.
 */
import { join } from 'node:path';
import { loadRulesFile } from '../../tooling/rules/load';
import type { RulesConfig } from '../../lib/rules/types';
import { startHelpCrunchSandbox, type HelpCrunchSandbox, type HelpCrunchSandboxOptions } from '../sandbox/helpcrunch-sandbox';
import { startSecretsManagerEndpoint, type SecretsManagerEndpoint } from '../sandbox/secrets-manager-endpoint';
import { functionEnv, LOCAL_API_KEY_SECRET_ID, targetFrom, type Target } from './function-env';
import { startFunctionHost, type HandledRequest } from './function-host';
import { startLocalFunctions, type LocalFunctions } from './local-functions';
import { clock, formatLogLine } from './log-format';
import { PROJECT_ROOT } from './serverless-config';
import { demoSigningSecrets } from './webhook-signing';

export type LogFormat = 'readable' | 'json';

export interface LocalStackOptions {
  /** Decides the target and is the functions' environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Function host port; 0 (default) picks a free one. */
  port?: number;
  /** Sandbox options; its port too defaults to 0. */
  sandbox?: HelpCrunchSandboxOptions;
  secretsManagerPort?: number;
  /** The serverless.yml functions to run (default webhook and eventbridge). */
  functions?: readonly string[];
  /** Per function name; default serverless.yml's timeouts. */
  timeoutsMs?: Readonly<Record<string, number | undefined>>;
  /** readable (default): one line per job, rejection and request; json: the functions' own lines. */
  logFormat?: LogFormat;
  /** Where log lines go (default stdout). */
  write?: (text: string) => void;
}

export interface LocalStack {
  target: Target;
  /** The function host, e.g. http://127.0.0.1:3000 */
  hostUrl: string;
  /** The deployed rules (rules.yml). */
  rules: RulesConfig;
  /** Only for the sandbox target. */
  sandbox?: HelpCrunchSandbox;
  secretsManager?: SecretsManagerEndpoint;
  /** secretId -> value stored in the local Secrets Manager (empty for the external target). */
  secrets: Record<string, string>;
  /** The functions the host calls, for direct invocations. */
  functions: LocalFunctions;
  close(): Promise<void>;
}

function requestLine({ method, path, status, ms }: HandledRequest): string {
  return `${clock()} ${method} ${path} → ${status}  ${Math.round(ms)} ms`;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const { env = process.env, logFormat = 'readable' } = options;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const target = targetFrom(env);
  const rules = loadRulesFile(join(PROJECT_ROOT, 'rules.yml'));
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    // Front to back: stop taking requests before what serves them goes away.
    for (const closer of closers.splice(0).reverse()) await closer();
  };

  try {
    let sandbox: HelpCrunchSandbox | undefined;
    let secretsManager: SecretsManagerEndpoint | undefined;
    let secrets: Record<string, string> = {};
    if (target.kind === 'sandbox') {
      sandbox = await startHelpCrunchSandbox({ port: 0, ...options.sandbox });
      closers.push(sandbox.close);
      secrets = { [LOCAL_API_KEY_SECRET_ID]: sandbox.apiKey, ...demoSigningSecrets(rules) };
      secretsManager = await startSecretsManagerEndpoint({ port: options.secretsManagerPort ?? 0, secrets });
      closers.push(secretsManager.close);
    }
    const functions: LocalFunctions = await startLocalFunctions({
      names: options.functions,
      env: functionEnv(env, sandbox && secretsManager && { helpcrunchUrl: sandbox.url, secretsManagerUrl: secretsManager.url }),
      timeoutsMs: options.timeoutsMs,
      onOutput: (line) => {
        const shown = logFormat === 'json' ? line : formatLogLine(line);
        if (shown !== undefined) write(`${shown}\n`);
      },
    });
    closers.push(functions.close);
    const host = await startFunctionHost({
      functions,
      port: options.port ?? 0,
      onRequest: logFormat === 'readable' ? (request) => write(`${requestLine(request)}\n`) : undefined,
    });
    closers.push(host.close);
    return { target, hostUrl: host.url, rules, sandbox, secretsManager, secrets, functions, close };
  } catch (error) {
    await close();
    throw error;
  }
}
