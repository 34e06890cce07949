/**
 * Command-line settings for scripts that start the sandbox (`npm start`): each is a flag with an
 * environment-variable fallback, described once here so parsing, validation and `--help` agree.
 * A flag wins over its variable; an empty variable counts as unset.
 */
import type { ParseArgsConfig } from 'node:util';
import { DEFAULT_RATE_LIMIT, type Faults, type HelpCrunchSandboxOptions } from './helpcrunch-sandbox';

/** Values from node:util parseArgs. */
export type CliValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** Bad flag or variable: scripts print the message and exit 2, without a stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Setting<T> {
  flag: string;
  env: string;
  /** The value's name in help, e.g. `--port <port>`. */
  arg: string;
  /** What a valid value looks like, for errors. */
  expected: string;
  help: string;
  /** undefined when the text is not a valid value. */
  parse(raw: string): T | undefined;
}

export function readSetting<T>(setting: Setting<T>, values: CliValues, env: NodeJS.ProcessEnv): T | undefined {
  const flagValue = values[setting.flag];
  const raw = (typeof flagValue === 'string' ? flagValue : env[setting.env])?.trim();
  if (raw === undefined || raw === '') return undefined;
  const value = setting.parse(raw);
  if (value === undefined) {
    throw new UsageError(`--${setting.flag} (or ${setting.env}) must be ${setting.expected}, got '${raw}'`);
  }
  return value;
}

function integerIn(min: number, max: number) {
  return (raw: string) => {
    const value = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
    return value >= min && value <= max ? value : undefined;
  };
}

const probability = (raw: string) => {
  const value = /^\d*\.?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  return value >= 0 && value <= 1 ? value : undefined;
};

/** A TCP port; 0 picks a free one. */
export const parsePort = integerIn(0, 65_535);

/** parseArgs option declarations for a list of settings (all take a value). */
export function flagsFor(settings: readonly Setting<unknown>[]): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(settings.map((setting) => [setting.flag, { type: 'string' as const }]));
}

/** One help line per setting (flag, variable, meaning), then any extra [flag, variable, meaning] rows. */
export function helpFor(
  settings: readonly Setting<unknown>[],
  extra: readonly [string, string, string][] = [],
): string {
  const rows = [...settings.map((s): [string, string, string] => [`--${s.flag} <${s.arg}>`, s.env, s.help]), ...extra];
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map(([flag, env, help]) => `  ${flag.padEnd(widths[0]!)}  ${env.padEnd(widths[1]!)}  ${help}`.trimEnd())
    .join('\n');
}

export const DEFAULT_SANDBOX_PORT = 4010;

export const sandboxSettings = {
  port: {
    flag: 'sandbox-port',
    arg: 'port',
    env: 'SANDBOX_PORT',
    expected: 'a port 0-65535',
    help: `HelpCrunch sandbox port (default ${DEFAULT_SANDBOX_PORT}; 0 = any free port)`,
    parse: parsePort,
  },
  rateLimit: {
    flag: 'rate-limit',
    arg: 'n',
    env: 'SANDBOX_RATE_LIMIT',
    expected: 'requests per minute, 1 or more',
    help: `requests per minute the account may make before 429s (default ${DEFAULT_RATE_LIMIT.requests})`,
    parse: integerIn(1, 1_000_000_000),
  },
  customers: {
    flag: 'customers',
    arg: 'file',
    env: 'SANDBOX_CUSTOMERS',
    expected: 'a customers file',
    help: "seed customers: JSON as local/sandbox/demo-customers.json (the default), or a YAML file's top-level customers as rule tests write them (docs/local.md)",
    parse: (raw: string) => raw,
  },
  rate429: {
    flag: 'fault-429',
    arg: 'p',
    env: 'SANDBOX_FAULT_429',
    expected: 'a probability 0-1',
    help: 'share (0-1) of requests answered 429 on top of the rate limit',
    parse: probability,
  },
  rate5xx: {
    flag: 'fault-5xx',
    arg: 'p',
    env: 'SANDBOX_FAULT_5XX',
    expected: 'a probability 0-1',
    help: 'share (0-1) of requests answered 500',
    parse: probability,
  },
  dropRate: {
    flag: 'fault-drop',
    arg: 'p',
    env: 'SANDBOX_FAULT_DROP',
    expected: 'a probability 0-1',
    help: 'share (0-1) of connections dropped without a reply',
    parse: probability,
  },
  latencyMs: {
    flag: 'latency-ms',
    arg: 'ms',
    env: 'SANDBOX_LATENCY_MS',
    expected: 'milliseconds',
    help: 'delay added to every request',
    parse: integerIn(0, 3_600_000),
  },
  retryAfter: {
    flag: 'retry-after',
    arg: 's|none',
    env: 'SANDBOX_RETRY_AFTER',
    expected: "seconds or 'none'",
    help: "Retry-After on injected 429s (default none; the rate limit's own 429s always send it)",
    parse: (raw: string): Faults['retryAfter'] | undefined => (raw === 'none' ? 'none' : integerIn(0, 86_400)(raw)),
  },
} satisfies Record<string, Setting<unknown>>;

/** The object without its undefined properties, so spreading it cannot override defaults. */
function defined<T extends object>(value: { [K in keyof T]: T[K] | undefined }): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

/**
 * The sandbox's start options from flags and environment; unset settings keep the sandbox
 * defaults. The customers file is named, not read: the host reads it (local/host/customers-file.ts).
 */
export function sandboxOptionsFromCli(
  values: CliValues,
  env: NodeJS.ProcessEnv,
): Omit<HelpCrunchSandboxOptions, 'customers'> & { port: number; customersFile?: string } {
  const read = <T>(setting: Setting<T>) => readSetting(setting, values, env);
  const requests = read(sandboxSettings.rateLimit);
  const customersFile = read(sandboxSettings.customers);
  return {
    port: read(sandboxSettings.port) ?? DEFAULT_SANDBOX_PORT,
    ...(requests !== undefined && { rateLimit: { ...DEFAULT_RATE_LIMIT, requests } }),
    ...(customersFile !== undefined && { customersFile }),
    faults: defined<Faults>({
      rate429: read(sandboxSettings.rate429),
      rate5xx: read(sandboxSettings.rate5xx),
      dropRate: read(sandboxSettings.dropRate),
      latencyMs: read(sandboxSettings.latencyMs),
      retryAfter: read(sandboxSettings.retryAfter),
    }),
  };
}
