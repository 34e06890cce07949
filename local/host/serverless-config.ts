/**
 * What the local host takes from serverless.yml, so a local run limits each function the way the
 * deployment does: its handler module and export, timeout, memory size and environment (with the
 * deploy params' defaults), the worker's queues and event source settings, and the DynamoDB tables.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { TableDefinition } from '../sandbox/dynamodb';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const { checkParam } = createRequire(import.meta.url)('../../tooling/deploy-params.cjs') as {
  checkParam(name: string, value: unknown): string | number;
};

export interface FunctionConfig {
  /** Source file of the handler module, absolute. */
  entry: string;
  /** Name of the exported handler. */
  exportName: string;
  timeoutMs: number;
  memoryMb: number;
  /** provider.environment and the function's own, params at their defaults, Refs from `refs` (others left out). */
  environment: Record<string, string>;
}

/** A queue a worker drains (the jobs queue, the backfill queue) and that worker's SQS event source, as deployed. */
export interface WorkerQueueConfig {
  /** FIFO (the queue and its dead-letter queue alike). */
  fifo: boolean;
  visibilityTimeoutSeconds: number;
  /** The redrive policy's: SQS moves a message received this often to the dead-letter queue. */
  maxReceiveCount: number;
  batchSize: number;
  maximumBatchingWindowSeconds: number;
  maximumConcurrency: number;
}

// The Serverless Framework's defaults when serverless.yml sets none.
const DEFAULT_TIMEOUT_SECONDS = 6;
const DEFAULT_MEMORY_MB = 1024;

type Yaml = Record<string, unknown>;

function readServerlessYml(): Yaml {
  return parse(readFileSync(join(PROJECT_ROOT, 'serverless.yml'), 'utf8')) as Yaml;
}

function positive(value: unknown, where: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0))
    throw new Error(`serverless.yml ${where} must be a positive number for local runs`);
  return value;
}

/**
 * A serverless.yml value as it deploys with the default params: `${self:custom.deployParams.<name>}`
 * becomes params.default.<name>, checked; `{Ref: X}` becomes refs[X] (undefined when absent).
 */
function resolve(document: Yaml, value: unknown, where: string, refs: Readonly<Record<string, string>> = {}): unknown {
  if (typeof value === 'object' && value !== null && 'Ref' in value)
    return refs[String((value as { Ref: unknown }).Ref)];
  if (typeof value !== 'string' || !value.includes('${')) return value;
  const param = /^\$\{self:custom\.deployParams\.(\w+)\}$/.exec(value)?.[1];
  if (!param) throw new Error(`serverless.yml ${where}: ${value} cannot be resolved for local runs`);
  return paramDefault(document, param);
}

function paramDefault(document: Yaml, name: string): string | number {
  return checkParam(name, (((document.params as Yaml | undefined)?.default ?? {}) as Yaml)[name]);
}

/** The stage local runs stand for: local queues and tables are named as `--stage local` would deploy them. */
export const LOCAL_STAGE = 'local';

/**
 * The resources written out in serverless.yml, by logical id. `resources` is a list of fragments
 * that osls merges; the others are variables (e.g. the EventBridge rules from rules.yml).
 */
function writtenResources(document: Yaml): Record<string, { Type?: string; Properties?: Yaml }> {
  const fragments = [document.resources ?? []].flat() as Yaml[];
  const written = fragments
    .map((fragment) => fragment?.Resources)
    .filter((part) => typeof part === 'object' && part !== null);
  return Object.assign({}, ...written);
}

/** A resource name as `--stage local` deploys it: ${self:service} and ${sls:stage} filled in. */
function localName(document: Yaml, value: unknown, where: string): string {
  if (typeof value !== 'string') throw new Error(`serverless.yml ${where} must be a name`);
  // biome-ignore lint/suspicious/noTemplateCurlyInString: serverless.yml's own variables, matched as written
  const name = value.replaceAll('${self:service}', String(document.service)).replaceAll('${sls:stage}', LOCAL_STAGE);
  if (name.includes('${')) throw new Error(`serverless.yml ${where}: ${value} cannot be resolved for local runs`);
  return name;
}

function queueName(document: Yaml, logicalId: string): string {
  const where = `resources.Resources.${logicalId}.Properties.QueueName`;
  return localName(document, writtenResources(document)[logicalId]?.Properties?.QueueName, where);
}

/** The jobs queue, its dead-letter queue and the backfill queue, named as serverless.yml names them (<service>-<stage>-jobs…). */
export function localQueueNames(): { jobs: string; deadLetters: string; backfill: string } {
  const document = readServerlessYml();
  return {
    jobs: queueName(document, 'JobsQueue'),
    deadLetters: queueName(document, 'JobsDeadLetterQueue'),
    backfill: queueName(document, 'BackfillQueue'),
  };
}

/** The AWS::DynamoDB::Table resources by logical id, their names as `--stage local` deploys them. */
export function readTableDefinitions(): Record<string, TableDefinition> {
  const document = readServerlessYml();
  const tables = Object.entries(writtenResources(document)).filter(([, { Type }]) => Type === 'AWS::DynamoDB::Table');
  return Object.fromEntries(
    tables.map(([logicalId, { Properties = {} }]) => [
      logicalId,
      {
        ...Properties,
        TableName: localName(document, Properties.TableName, `resources.Resources.${logicalId}.Properties.TableName`),
      } as TableDefinition,
    ]),
  );
}

/** A deploy param's default (serverless.yml params.default), checked. */
export function deployParamDefault(name: string): string | number {
  return paramDefault(readServerlessYml(), name);
}

function environmentOf(
  document: Yaml,
  definition: Yaml,
  name: string,
  refs: Readonly<Record<string, string>>,
): Record<string, string> {
  const provider = (document.provider ?? {}) as Yaml;
  const merged = { ...((provider.environment ?? {}) as Yaml), ...((definition.environment ?? {}) as Yaml) };
  const environment: Record<string, string> = {};
  for (const [variable, raw] of Object.entries(merged)) {
    const value = resolve(document, raw, `functions.${name}.environment.${variable}`, refs);
    if (value !== undefined) environment[variable] = String(value);
  }
  return environment;
}

function functionDefinition(document: Yaml, name: string): Yaml {
  const definition = ((document.functions ?? {}) as Record<string, Yaml | undefined>)[name];
  if (!definition) throw new Error(`serverless.yml defines no function '${name}'`);
  return definition;
}

/** The named serverless.yml functions, by name; `refs` resolve {Ref: …} environment values (e.g. queue URLs). */
export function readFunctionConfigs(
  names: readonly string[],
  refs: Readonly<Record<string, string>> = {},
): Record<string, FunctionConfig> {
  const document = readServerlessYml();
  const provider = (document.provider ?? {}) as Yaml;
  const functions: Record<string, FunctionConfig> = {};
  for (const name of names) {
    const definition = functionDefinition(document, name);
    const handler = String(definition.handler);
    const dot = handler.lastIndexOf('.');
    functions[name] = {
      entry: join(PROJECT_ROOT, `${handler.slice(0, dot)}.ts`),
      exportName: handler.slice(dot + 1),
      timeoutMs:
        positive(definition.timeout ?? provider.timeout, `functions.${name}.timeout`, DEFAULT_TIMEOUT_SECONDS) * 1000,
      memoryMb: positive(
        definition.memorySize ?? provider.memorySize,
        `functions.${name}.memorySize`,
        DEFAULT_MEMORY_MB,
      ),
      environment: environmentOf(document, definition, name, refs),
    };
  }
  return functions;
}

/** The queue the function (`worker`, `backfill`) drains and its `sqs` event, with the default params. */
export function readWorkerQueueConfig(functionName = 'worker'): WorkerQueueConfig {
  const document = readServerlessYml();
  const resources = writtenResources(document);
  const events = (functionDefinition(document, functionName).events ?? []) as { sqs?: Yaml }[];
  const sqs = events.find((event) => event.sqs)?.sqs;
  if (!sqs) throw new Error(`serverless.yml: the ${functionName} function has no sqs event`);
  const logicalIdOf = (arn: unknown) => ((arn as { 'Fn::GetAtt'?: unknown[] } | undefined)?.['Fn::GetAtt'] ?? [])[0];
  const queueId = String(logicalIdOf(sqs.arn));
  const queue = resources[queueId]?.Properties ?? {};
  const redrive = queue.RedrivePolicy as Yaml | undefined;
  const fifo = queue.FifoQueue === true;
  const deadLetterId = String(logicalIdOf(redrive?.deadLetterTargetArn));
  if ((resources[deadLetterId]?.Properties?.FifoQueue === true) !== fifo)
    throw new Error(`serverless.yml: ${queueId} and its dead-letter queue must both be FIFO, or neither`);
  const number = (value: unknown, where: string, fallback?: number) => {
    const resolved = resolve(document, value, where) ?? fallback;
    if (resolved === undefined) throw new Error(`serverless.yml ${where} is not set`);
    return positive(resolved, where, 0);
  };
  const where = `functions.${functionName} sqs`;
  return {
    fifo,
    visibilityTimeoutSeconds: number(
      queue.VisibilityTimeout,
      `resources.Resources.${queueId}.Properties.VisibilityTimeout`,
    ),
    maxReceiveCount: number(redrive?.maxReceiveCount, `${queueId} RedrivePolicy.maxReceiveCount`),
    batchSize: number(sqs.batchSize, `${where} batchSize`, 10),
    maximumBatchingWindowSeconds:
      (resolve(document, sqs.maximumBatchingWindow, `${where} maximumBatchingWindow`) as number | undefined) ?? 0,
    maximumConcurrency: number(sqs.maximumConcurrency, `${where} maximumConcurrency`),
  };
}
