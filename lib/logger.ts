/**
 * Structured logs: one JSON line per entry, in Powertools Logger's shape, so queries written for
 * Powertools read them unchanged: `level`, `message`, `timestamp`, `service`, `cold_start`,
 * `function_arn`, `function_memory_size`, `function_name`, `function_request_id`,
 * `xray_trace_id`, `correlation_id`, then the keys appended for the invocation, then the entry's own.
 *
 * Why not Powertools Logger itself: each of its lines passes through invocation-scoped stores,
 * deep merges, environment reads and a JSON replacer called on every key, ~26 µs in a warm
 * invocation, more than half of this function's own work per event (npm run bench, part 3).
 * This one builds one object and stringifies it once. What it leaves out: debug sampling, log
 * buffering and POWERTOOLS_DEV's pretty printing. It keeps one invocation's keys at a time, as
 * Lambda runs invocations one after another in a process (not Lambda Managed Instances'
 * concurrent mode, which this project does not deploy).
 */
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';

/** Powertools' thresholds; Lambda's FATAL is CRITICAL. */
const THRESHOLDS = { TRACE: 6, DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20, CRITICAL: 24, SILENT: 28 } as const;
export type LogLevel = keyof typeof THRESHOLDS;

function levelNamed(value: string | undefined): LogLevel | undefined {
  const name = value?.trim().toUpperCase();
  if (name === 'FATAL') return 'CRITICAL';
  return name !== undefined && Object.hasOwn(THRESHOLDS, name) ? (name as LogLevel) : undefined;
}

/**
 * As Powertools reads it: the level Lambda's Advanced Logging Controls set (AWS_LAMBDA_LOG_LEVEL)
 * wins; then POWERTOOLS_LOG_LEVEL, then LOG_LEVEL; INFO when none names a level.
 */
export function logLevelFrom(env: NodeJS.ProcessEnv): LogLevel {
  return (
    levelNamed(env.AWS_LAMBDA_LOG_LEVEL) ?? levelNamed(env.POWERTOOLS_LOG_LEVEL) ?? levelNamed(env.LOG_LEVEL) ?? 'INFO'
  );
}

type Fields = Record<string, unknown>;

/** `file:line` of the first stack frame that names one, as Powertools reports it. */
function codeLocation(stack: string | undefined): string {
  for (const frame of stack?.split('\n') ?? []) {
    const match = /\(([^()]*?):(\d+?):(\d+?)\)\\?$/.exec(frame);
    if (match) return `${match[1]}:${Number(match[2])}`;
  }
  return '';
}

/** Powertools' form of an error: name, where it was thrown, message, stack, its cause, and its own fields. */
export function errorFields(error: Error): Fields {
  const { name, message, stack, cause, ...own } = error as Error & Fields;
  return {
    name,
    location: codeLocation(stack),
    message,
    stack,
    ...(cause !== undefined && { cause: cause instanceof Error ? errorFields(cause) : cause }),
    ...own,
  };
}

/** What JSON.stringify cannot take as it is: errors are formatted, big integers become strings, a cycle is cut. */
function safeReplacer(): (this: unknown, key: string, value: unknown) => unknown {
  const ancestors: unknown[] = [];
  return function (this: unknown, _key, value) {
    if (value instanceof Error) value = errorFields(value);
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'object' && value !== null) {
      while (ancestors.length > 0 && ancestors.at(-1) !== this) ancestors.pop();
      if (ancestors.includes(value)) return undefined;
      ancestors.push(value);
    }
    return value;
  };
}

/**
 * Whether the entry may hold an error anywhere, not only the one passed to error(): only then is
 * the slower replacer needed. Too deep or too big to look through (a cycle is both) counts as may.
 */
function mayHoldError(value: unknown, budget = { values: 1000 }, depth = 0): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (value instanceof Error || depth > 16 || --budget.values < 0) return true;
  for (const key in value) if (mayHoldError((value as Fields)[key], budget, depth + 1)) return true;
  return false;
}

function serialise(entry: Fields): string {
  if (!mayHoldError(entry)) {
    try {
      return JSON.stringify(entry);
    } catch {
      // A big integer: the replacer writes it as a string.
    }
  }
  return JSON.stringify(entry, safeReplacer());
}

/** Keys Powertools reserves for the line's own: a field of that name is dropped. */
const RESERVED = new Set(['level', 'message', 'sampling_rate', 'service', 'timestamp']);

/** Copies `fields` into `target`, leaving out reserved keys, and undefined, null and empty values (as Powertools does at the top level). */
function assignFields(target: Fields, fields: Fields): void {
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined || value === null || value === '' || RESERVED.has(key)) continue;
    target[key] = value;
  }
}

/** The Root of Lambda's `Root=…;Parent=…;Sampled=…` trace header (a bare value is the root). */
function traceRoot(header: string | undefined): string | undefined {
  if (!header) return undefined;
  if (!header.includes('=')) return header;
  return /(?:^|;)Root=([^;]*)/.exec(header)?.[1];
}

export interface LoggerOptions {
  serviceName: string;
  /** Read once, at construction: the level and initialisation type do not change within a Lambda process. */
  env?: NodeJS.ProcessEnv;
}

export class Logger {
  readonly #service: string;
  readonly #level: LogLevel;
  readonly #threshold: number;
  /** Lambda context fields and the trace id, set at the start of each invocation. */
  #invocation: Fields = {};
  #persistentKeys: Fields = {};
  /** appendKeys and the correlation id: dropped when the invocation ends. */
  #keys: Fields = {};
  #coldStart: boolean;

  constructor({ serviceName, env = process.env }: LoggerOptions) {
    this.#service = serviceName;
    // As Powertools: only an on-demand start is cold; a provisioned-concurrency one was warmed ahead.
    this.#coldStart = env.AWS_LAMBDA_INITIALIZATION_TYPE?.trim() === 'on-demand';
    this.#level = logLevelFrom(env);
    this.#threshold = THRESHOLDS[this.#level];
  }

  getLevelName(): LogLevel {
    return this.#level;
  }

  /** The invocation's Lambda context and X-Ray trace id for every line until the next one; the first is the cold start. */
  addContext(context: Context, env: NodeJS.ProcessEnv = process.env): void {
    this.#invocation = {};
    assignFields(this.#invocation, {
      cold_start: this.#coldStart,
      function_arn: context.invokedFunctionArn,
      function_memory_size: context.memoryLimitInMB,
      function_name: context.functionName,
      function_request_id: context.awsRequestId,
      xray_trace_id: traceRoot(env._X_AMZN_TRACE_ID),
    });
    this.#coldStart = false;
  }

  /** Keys for every line of this invocation. */
  appendKeys(keys: Fields): void {
    this.#keys = { ...this.#keys, ...keys };
  }

  /** Keys for every line of this container. */
  appendPersistentKeys(keys: Fields): void {
    this.#persistentKeys = { ...this.#persistentKeys, ...keys };
  }

  setCorrelationId(id: string | undefined): void {
    this.appendKeys({ correlation_id: id });
  }

  /** Ends the invocation: its keys and correlation id go. */
  resetKeys(): void {
    this.#keys = {};
  }

  debug(message: string, fields?: Fields | Error): void {
    this.#log('DEBUG', message, fields);
  }

  info(message: string, fields?: Fields | Error): void {
    this.#log('INFO', message, fields);
  }

  warn(message: string, fields?: Fields | Error): void {
    this.#log('WARN', message, fields);
  }

  error(message: string, fields?: Fields | Error): void {
    this.#log('ERROR', message, fields);
  }

  #log(level: LogLevel, message: string, fields: Fields | Error | undefined): void {
    if (THRESHOLDS[level] < this.#threshold) return;
    const entry: Fields = {
      level,
      message,
      timestamp: new Date().toISOString(),
      service: this.#service,
      ...this.#invocation,
    };
    assignFields(entry, this.#persistentKeys);
    assignFields(entry, this.#keys);
    if (fields instanceof Error) entry.error = fields;
    else if (fields) assignFields(entry, fields);
    // As Powertools' console: warnings and errors on stderr.
    const stream = THRESHOLDS[level] >= THRESHOLDS.WARN ? process.stderr : process.stdout;
    stream.write(`${serialise(entry)}\n`);
  }
}

/**
 * Per invocation: the Lambda context on every line, and the invocation's keys dropped when it
 * ends, however it ends. Events are never logged.
 */
export function injectLambdaContext(logger: Logger): MiddlewareObj {
  return {
    before: ({ context }) => logger.addContext(context),
    after: () => logger.resetKeys(),
    onError: () => logger.resetKeys(),
  };
}
