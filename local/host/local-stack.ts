/**
 * Everything `npm start` runs, in one call that tests use too: the HelpCrunch sandbox, the vendor
 * API stand-ins every lookup is pointed at (LOOKUP_ORIGINS), and a Secrets Manager endpoint holding
 * the sandbox's key, a demo secret for every webhook source and every lookup's stand-in key (unless
 * HELPCRUNCH_API_URL points elsewhere, see function-env.ts), a local DynamoDB (dynalite) with
 * serverless.yml's tables, the functions, and the host in front. In queue dispatch (the deployed
 * default) also a local SQS with the jobs queue, its dead-letter queue and the backfill queue, the
 * worker and backfill functions, and Lambda's SQS pollers driving them, configured as serverless.yml.
 */
import { join } from 'node:path';
import { loadRulesFile } from '../../tooling/rules/load';
import type { RulesConfig } from '../../lib/rules/types';
import {
  startHelpCrunchSandbox,
  type HelpCrunchSandbox,
  type HelpCrunchSandboxOptions,
} from '../sandbox/helpcrunch-sandbox';
import { startDynamoDb, type LocalDynamoDb } from '../sandbox/dynamodb';
import { startSecretsManagerEndpoint, type SecretsManagerEndpoint } from '../sandbox/secrets-manager-endpoint';
import { demoLookupSecrets, startVendorApis, type VendorApis } from '../sandbox/vendor-apis';
import { functionEnv, LOCAL_API_KEY_SECRET_ID, targetFrom, type Target } from './function-env';
import { startFunctionHost, type HandledRequest } from './function-host';
import { startLocalFunctions, type LocalFunctions } from './local-functions';
import { clock, formatLogLine } from './log-format';
import { driveWorker, startLocalQueue, type LocalQueue } from './local-queue';
import { deployParamDefault, PROJECT_ROOT, readTableDefinitions } from './serverless-config';
import type { SqsEventSource } from './sqs-event-source';
import { demoSigningSecrets } from './webhook-signing';

export type LogFormat = 'readable' | 'json';
export type DispatchMode = 'inline' | 'queue';

export interface LocalStackOptions {
  /** Decides the target and is the functions' environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The rules the functions run with (default the project's rules.yml). */
  rulesFile?: string;
  /** Function host port; 0 (default) picks a free one. */
  port?: number;
  /** Sandbox options; its port too defaults to 0. */
  sandbox?: HelpCrunchSandboxOptions;
  secretsManagerPort?: number;
  /** Default serverless.yml's dispatch param: queue. */
  dispatch?: DispatchMode;
  /** DRY_RUN for the functions: everything runs but HelpCrunch's writes. Default: the env's DRY_RUN, else serverless.yml's. */
  dryRun?: boolean;
  /** The local SQS's port in queue mode; 0 (default) picks a free one. */
  sqsPort?: number;
  /** The local DynamoDB's port; 0 (default) picks a free one. */
  dynamoDbPort?: number;
  /** The serverless.yml functions to run (default webhook and eventbridge); in queue mode the worker and backfill too. */
  functions?: readonly string[];
  /** Per function name; default serverless.yml's timeouts. */
  timeoutsMs?: Readonly<Record<string, number | undefined>>;
  /** readable (default): one line per job, rejection and request; json: the functions' own lines. */
  logFormat?: LogFormat;
  /** Where log lines go (default stdout). */
  write?: (text: string) => void;
  /** Every line a function prints, as it prints it (e.g. to collect job outcomes). */
  onFunctionOutput?: (line: string) => void;
}

export interface LocalStack {
  target: Target;
  /** The function host, e.g. http://127.0.0.1:3000 */
  hostUrl: string;
  /** The rules the functions run with (rules.yml unless options.rulesFile). */
  rules: RulesConfig;
  /** Only for the sandbox target. */
  sandbox?: HelpCrunchSandbox;
  secretsManager?: SecretsManagerEndpoint;
  /** The lookups' vendor API stand-ins; only for the sandbox target. */
  vendorApis?: VendorApis;
  /** The local DynamoDB (AWS_ENDPOINT_URL_DYNAMODB) with serverless.yml's tables, for either target. */
  dynamoDb: LocalDynamoDb;
  /** secretId -> value stored in the local Secrets Manager (empty for the external target). */
  secrets: Record<string, string>;
  /** The functions the host calls, for direct invocations. */
  functions: LocalFunctions;
  dispatch: DispatchMode;
  /** Whether the functions run dry (DRY_RUN): HelpCrunch gets no PUT or DELETE. */
  dryRun: boolean;
  /** Queue dispatch only: the local SQS, its queues, and the pollers feeding the worker and the backfill function. */
  queue?: LocalQueue & { eventSource: SqsEventSource; backfillEventSource: SqsEventSource };
  close(): Promise<void>;
}

function requestLine({ method, path, status, ms }: HandledRequest): string {
  return `${clock()} ${method} ${path} → ${status}  ${Math.round(ms)} ms`;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const { env = process.env, logFormat = 'readable' } = options;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const target = targetFrom(env);
  const rulesFile = options.rulesFile ?? join(PROJECT_ROOT, 'rules.yml');
  const rules = loadRulesFile(rulesFile);
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    // Front to back: stop taking requests before what serves them goes away.
    for (const closer of closers.splice(0).reverse()) await closer();
  };

  try {
    let dynamoDb: LocalDynamoDb | undefined;
    let queue: LocalQueue | undefined;
    let sandbox: HelpCrunchSandbox | undefined;
    let secretsManager: SecretsManagerEndpoint | undefined;
    let vendorApis: VendorApis | undefined;
    let secrets: Record<string, string> = {};
    if (target.kind === 'sandbox') {
      sandbox = await startHelpCrunchSandbox({
        port: 0,
        ...options.sandbox,
        // A fresh start for the samples (npm run demo resets first): the ledger's decisions and the
        // queue's deduplication window would otherwise make them duplicates of the last run.
        onReset: async () => {
          await dynamoDb?.clear();
          queue?.sqs.model.forgetDeduplication();
        },
      });
      closers.push(sandbox.close);
      vendorApis = await startVendorApis();
      closers.push(vendorApis.close);
      secrets = {
        [LOCAL_API_KEY_SECRET_ID]: sandbox.apiKey,
        ...demoSigningSecrets(rules),
        ...demoLookupSecrets(rules.lookups, vendorApis.keys),
      };
      secretsManager = await startSecretsManagerEndpoint({ port: options.secretsManagerPort ?? 0, secrets });
      closers.push(secretsManager.close);
    }
    const tables = readTableDefinitions();
    dynamoDb = await startDynamoDb({ tables: Object.values(tables), port: options.dynamoDbPort ?? 0 });
    closers.push(dynamoDb.close);
    const dispatch = options.dispatch ?? (deployParamDefault('dispatch') as DispatchMode);
    if (dispatch === 'queue') {
      queue = await startLocalQueue(options.sqsPort ?? 0);
      closers.push(queue.sqs.close);
    }
    const local = sandbox &&
      secretsManager &&
      vendorApis && {
        helpcrunchUrl: sandbox.url,
        secretsManagerUrl: secretsManager.url,
        lookupOrigins: Object.fromEntries(Object.keys(rules.lookups).map((name) => [name, vendorApis.url])),
      };
    const targetEnv = functionEnv(env, local);
    const functions: LocalFunctions = await startLocalFunctions({
      names: [
        ...new Set([...(options.functions ?? ['webhook', 'eventbridge']), ...(queue ? ['worker', 'backfill'] : [])]),
      ],
      rulesFile,
      env: {
        ...targetEnv,
        DISPATCH: dispatch,
        ...(options.dryRun !== undefined && { DRY_RUN: String(options.dryRun) }),
        ...(queue && { AWS_ENDPOINT_URL_SQS: queue.sqs.url }),
        AWS_ENDPOINT_URL_DYNAMODB: dynamoDb.url,
      },
      // A table's Ref is its name (LEDGER_TABLE).
      refs: {
        ...Object.fromEntries(Object.entries(tables).map(([logicalId, table]) => [logicalId, table.TableName!])),
        ...(queue && {
          JobsQueue: queue.jobsQueueUrl,
          JobsDeadLetterQueue: queue.deadLetterQueueUrl,
          BackfillQueue: queue.backfillQueueUrl,
        }),
      },
      // One execution environment per batch an event source may run at once, as Lambda scales it.
      instances: {
        worker: queue?.config.maximumConcurrency ?? 1,
        backfill: queue?.backfillConfig.maximumConcurrency ?? 1,
      },
      timeoutsMs: options.timeoutsMs,
      onOutput: (line) => {
        options.onFunctionOutput?.(line);
        const shown = logFormat === 'json' ? line : formatLogLine(line);
        if (shown !== undefined) write(`${shown}\n`);
      },
    });
    closers.push(functions.close);
    let queueing: LocalStack['queue'];
    if (queue) {
      queueing = {
        ...queue,
        eventSource: driveWorker(queue, functions, 'worker'),
        backfillEventSource: driveWorker(queue, functions, 'backfill'),
      };
      // Closers run back to front: polling stops before the functions go.
      closers.push(queueing.eventSource.stop, queueing.backfillEventSource.stop);
    }
    const host = await startFunctionHost({
      functions,
      port: options.port ?? 0,
      onRequest: logFormat === 'readable' ? (request) => write(`${requestLine(request)}\n`) : undefined,
    });
    closers.push(host.close);
    const dryRun = options.dryRun ?? env.DRY_RUN?.trim() === 'true';
    return {
      target,
      hostUrl: host.url,
      rules,
      sandbox,
      secretsManager,
      vendorApis,
      dynamoDb,
      secrets,
      functions,
      dispatch,
      dryRun,
      queue: queueing,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
