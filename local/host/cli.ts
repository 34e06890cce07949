/** Flags and environment variables of `npm start` and `npm run demo` (see each script's --help). */
import { join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  DEFAULT_SANDBOX_PORT,
  flagsFor,
  helpFor,
  parsePort,
  readSetting,
  sandboxOptionsFromCli,
  sandboxSettings,
  UsageError,
  type CliValues,
  type Setting,
} from '../sandbox/cli-options';
import { loadCustomersFile } from './customers-file';
import type { DispatchMode, LocalStackOptions } from './local-stack';
import { PROJECT_ROOT } from './serverless-config';

export const DEFAULT_HOST_PORT = 3000;
/** The local SQS in queue mode; fixed by default so `npm run demo` and `npm run backfill -- --local` find it. */
export const DEFAULT_SQS_PORT = 4020;
/** The local DynamoDB; fixed by default so `npm run backfill -- --local` finds the ledger (a run's progress). */
export const DEFAULT_DYNAMODB_PORT = 4021;

const seconds = (raw: string) => {
  const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
  return value > 0 && value <= 900 ? value : undefined;
};

export const hostSettings = {
  rules: {
    flag: 'rules',
    arg: 'file',
    env: 'RULES_FILE',
    expected: 'a rules file',
    help: 'the rules the functions run with (default rules.yml); its rule tests (<name>.test.yml) give the sample events',
    parse: (raw: string) => resolve(raw),
  },
  port: {
    flag: 'port',
    arg: 'port',
    env: 'PORT',
    expected: 'a port 0-65535',
    help: `function host port (default ${DEFAULT_HOST_PORT}; 0 = any free port)`,
    parse: parsePort,
  },
  secretsPort: {
    flag: 'secrets-port',
    arg: 'port',
    env: 'SECRETS_MANAGER_PORT',
    expected: 'a port 0-65535',
    help: 'local Secrets Manager port (default: any free port)',
    parse: parsePort,
  },
  sqsPort: {
    flag: 'sqs-port',
    arg: 'port',
    env: 'SQS_PORT',
    expected: 'a port 0-65535',
    help: `local SQS port in queue mode (default ${DEFAULT_SQS_PORT}; 0 = any free port)`,
    parse: parsePort,
  },
  dynamoDbPort: {
    flag: 'dynamodb-port',
    arg: 'port',
    env: 'DYNAMODB_PORT',
    expected: 'a port 0-65535',
    help: `local DynamoDB port (default ${DEFAULT_DYNAMODB_PORT}; 0 = any free port)`,
    parse: parsePort,
  },
  dispatch: {
    flag: 'dispatch',
    arg: 'mode',
    env: 'DISPATCH',
    expected: 'inline or queue',
    help: 'queue: webhooks and events enqueue jobs for the worker, as deployed (default); inline: they call HelpCrunch',
    parse: (raw: string): DispatchMode | undefined => (raw === 'inline' || raw === 'queue' ? raw : undefined),
  },
  webhookTimeout: {
    flag: 'webhook-timeout',
    arg: 's',
    env: 'WEBHOOK_TIMEOUT_SECONDS',
    expected: 'seconds, up to 900',
    help: "webhook function timeout in seconds (default: serverless.yml's)",
    parse: seconds,
  },
  eventbridgeTimeout: {
    flag: 'eventbridge-timeout',
    arg: 's',
    env: 'EVENTBRIDGE_TIMEOUT_SECONDS',
    expected: 'seconds, up to 900',
    help: "EventBridge function timeout in seconds (default: serverless.yml's)",
    parse: seconds,
  },
} satisfies Record<string, Setting<unknown>>;

const startSettings = [...Object.values(hostSettings), ...Object.values(sandboxSettings)];

export const START_HELP = `npm start [-- options]   run the functions locally behind a local API Gateway stand-in

Without HELPCRUNCH_API_URL, against an in-memory HelpCrunch sandbox and a local Secrets Manager.
With HELPCRUNCH_API_URL, HELPCRUNCH_API_KEY_SECRET_ID and AWS credentials: against the real ones.
In queue dispatch (serverless.yml's default) jobs go through a local SQS to the worker function.
Either way serverless.yml's DynamoDB tables (the ledger) are in a local DynamoDB (dynalite, in memory).

Options (flag, or environment variable):
${helpFor(startSettings, [
  [
    '--dry-run',
    'DRY_RUN=true',
    'everything runs but HelpCrunch writes: no tag changes, results say would_untag / would_tag',
  ],
  ['--json-logs', 'LOG_FORMAT=json', "print the functions' JSON log lines as they are"],
  ['--help', '', ''],
])}`;

export interface StartOptions extends LocalStackOptions {
  port: number;
  rulesFile: string;
}

export const DEFAULT_RULES_FILE = join(PROJECT_ROOT, 'rules.yml');

/** undefined when --help was asked for. Throws UsageError for a bad flag or value. */
export function parseStartArgs(args: readonly string[], env: NodeJS.ProcessEnv): StartOptions | undefined {
  const { values } = parseUsage(args, {
    ...flagsFor(startSettings),
    'dry-run': { type: 'boolean' },
    'json-logs': { type: 'boolean' },
    help: { type: 'boolean' },
  });
  if (values.help) return undefined;
  const read = <T>(setting: Setting<T>) => readSetting(setting, values, env);
  const { port: sandboxPort, customersFile, ...sandbox } = sandboxOptionsFromCli(values, env);
  const toMs = (value: number | undefined) => (value === undefined ? undefined : value * 1000);
  return {
    env,
    rulesFile: read(hostSettings.rules) ?? DEFAULT_RULES_FILE,
    port: read(hostSettings.port) ?? DEFAULT_HOST_PORT,
    secretsManagerPort: read(hostSettings.secretsPort) ?? 0,
    dispatch: read(hostSettings.dispatch),
    sqsPort: read(hostSettings.sqsPort) ?? DEFAULT_SQS_PORT,
    dynamoDbPort: read(hostSettings.dynamoDbPort) ?? DEFAULT_DYNAMODB_PORT,
    sandbox: {
      ...sandbox,
      ...(customersFile !== undefined && { customers: loadCustomersFile(customersFile) }),
      port: sandboxPort,
    },
    timeoutsMs: {
      webhook: toMs(read(hostSettings.webhookTimeout)),
      eventbridge: toMs(read(hostSettings.eventbridgeTimeout)),
    },
    logFormat: values['json-logs'] || env.LOG_FORMAT?.trim() === 'json' ? 'json' : 'readable',
    // Without the flag the environment's DRY_RUN reaches the functions as it is.
    ...(values['dry-run'] === true && { dryRun: true }),
  };
}

export const DEMO_HELP = `npm run demo [-- options]   send the sample events (from the rule tests) through the running \`npm start\` and show the tags before and after

In queue mode the tags are shown once the local jobs queue has drained.

Options (flag, or environment variable):
${helpFor(
  [hostSettings.rules, hostSettings.port, sandboxSettings.port, hostSettings.sqsPort],
  [
    ['--no-reset', '', 'keep the sandbox as it is (default: restore the demo customers first)'],
    ['--help', '', ''],
  ],
)}`;

export interface DemoOptions {
  /** The rules npm start runs with: the demo sends the events of their rule tests. */
  rulesFile: string;
  hostUrl: string;
  sandboxUrl: string;
  /** The local SQS `npm start` runs in queue mode. */
  sqsUrl: string;
  reset: boolean;
}

export function parseDemoArgs(args: readonly string[], env: NodeJS.ProcessEnv): DemoOptions | undefined {
  const { values } = parseUsage(args, {
    ...flagsFor([hostSettings.rules, hostSettings.port, sandboxSettings.port, hostSettings.sqsPort]),
    'no-reset': { type: 'boolean' },
    help: { type: 'boolean' },
  });
  if (values.help) return undefined;
  const port = readSetting(hostSettings.port, values, env) ?? DEFAULT_HOST_PORT;
  const sandboxPort = readSetting(sandboxSettings.port, values, env) ?? DEFAULT_SANDBOX_PORT;
  const sqsPort = readSetting(hostSettings.sqsPort, values, env) ?? DEFAULT_SQS_PORT;
  return {
    rulesFile: readSetting(hostSettings.rules, values, env) ?? DEFAULT_RULES_FILE,
    hostUrl: `http://127.0.0.1:${port}`,
    sandboxUrl: `http://127.0.0.1:${sandboxPort}`,
    sqsUrl: `http://127.0.0.1:${sqsPort}`,
    reset: !values['no-reset'],
  };
}

/** parseArgs, with its errors (unknown flag, missing value) as UsageError. */
export function parseUsage(
  args: readonly string[],
  options: NonNullable<ParseArgsConfig['options']>,
): { values: CliValues; positionals: string[] } {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
