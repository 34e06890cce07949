/**
 * `npm run invoke -- <webhook|eventbridge> <event.json>`: one invocation of one function with a
 * Lambda event from a file, against a fresh sandbox (or, with HELPCRUNCH_API_URL, the real API),
 * printing the job lines, the handler's result and what changed in the sandbox. In queue dispatch
 * (serverless.yml's) the worker then takes the queued jobs before the changes are shown.
 */
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { readSetting, UsageError } from '../sandbox/cli-options';
import { hostSettings, parseUsage } from './cli';
import { tagsTable } from './demo';
import { startLocalStack, type DispatchMode, type LocalStack } from './local-stack';
import { signWebhook } from './webhook-signing';

export const INVOKE_HELP = `npm run invoke -- <webhook|eventbridge> <event.json> [--sign] [--dispatch <mode>] [--json-logs]

Runs the function once with a Lambda event from a file: an API Gateway (HTTP API 2.0, REST 1.0)
or Function URL event for webhook, an EventBridge event for eventbridge. Uses a fresh HelpCrunch
sandbox with the demo customers, or the real HelpCrunch when HELPCRUNCH_API_URL is set (see npm start).

  --sign        re-sign a webhook event's body with the sandbox's demo secret for its source
                (Standard Webhooks signatures expire after 5 minutes)
  --dispatch    queue (default, as deployed): the function enqueues and the worker takes the jobs
                before the changes are shown; inline: the function calls HelpCrunch itself
  --json-logs   print the function's JSON log lines as they are`;

/** How long the worker may take the queued jobs before the changes are shown anyway. */
const DRAIN_TIMEOUT_MS = 60_000;

export const FUNCTION_KINDS = ['webhook', 'eventbridge'] as const;
type FunctionKind = (typeof FUNCTION_KINDS)[number];

export interface InvokeArgs {
  kind: FunctionKind;
  eventFile: string;
  sign: boolean;
  jsonLogs: boolean;
  /** Default serverless.yml's. */
  dispatch?: DispatchMode;
}

export function parseInvokeArgs(args: readonly string[], env: NodeJS.ProcessEnv = {}): InvokeArgs | undefined {
  const { values, positionals } = parseUsage(args, {
    sign: { type: 'boolean' },
    dispatch: { type: 'string' },
    'json-logs': { type: 'boolean' },
    help: { type: 'boolean' },
  });
  if (values.help) return undefined;
  const [kind, eventFile, ...extra] = positionals;
  if (!FUNCTION_KINDS.includes(kind as FunctionKind) || !eventFile || extra.length > 0) {
    throw new UsageError(`Expected <webhook|eventbridge> <event.json>, got: ${positionals.join(' ') || 'nothing'}`);
  }
  const dispatch = readSetting(hostSettings.dispatch, values, env);
  return { kind: kind as FunctionKind, eventFile, sign: values.sign === true, jsonLogs: values['json-logs'] === true, ...(dispatch && { dispatch }) };
}

type HttpEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent;

/** The event with fresh signature headers for its body, from the stack's demo secret for its source. */
export function signHttpEvent(event: HttpEvent, stack: LocalStack): HttpEvent {
  const path = 'rawPath' in event ? event.rawPath : event.path;
  const source = event.pathParameters?.source ?? decodeURIComponent(path.split('/').pop() ?? '');
  const verify = stack.rules.sources[source]?.verify;
  if (!verify) throw new UsageError(`--sign: rules.yml has no webhook source '${source}' (from the event's path)`);
  if (verify.scheme === 'none') return event;
  const secret = stack.secrets[verify.secretId];
  if (secret === undefined) throw new UsageError('--sign needs the sandbox: it signs with the demo secrets, which the real endpoints do not accept');
  const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  const signed = Object.fromEntries(Object.entries(signWebhook(verify, secret, body)).map(([name, value]) => [name.toLowerCase(), value]));
  const replaced = <T>(record: Record<string, T> | null | undefined, value: (text: string) => T) => ({
    ...Object.fromEntries(Object.entries(record ?? {}).filter(([name]) => !(name.toLowerCase() in signed))),
    ...Object.fromEntries(Object.entries(signed).map(([name, text]) => [name, value(text)])),
  });
  const headers = replaced(event.headers as Record<string, string>, (text) => text);
  if ('multiValueHeaders' in event && event.multiValueHeaders) {
    return { ...event, headers, multiValueHeaders: replaced(event.multiValueHeaders as Record<string, string[]>, (text) => [text]) };
  }
  return { ...event, headers };
}

/** Resolves true when the function succeeded (a webhook reply below 400, or a resolved event). */
export async function runInvoke(args: InvokeArgs, env: NodeJS.ProcessEnv, write: (text: string) => void): Promise<boolean> {
  let event: unknown;
  try {
    event = JSON.parse(readFileSync(args.eventFile, 'utf8'));
  } catch (error) {
    throw new UsageError(`Cannot read the event from ${args.eventFile}: ${(error as Error).message}`);
  }
  const stack = await startLocalStack({
    env,
    dispatch: args.dispatch,
    functions: [args.kind],
    // In queue mode the worker takes the jobs at once.
    batchingWindowMs: 0,
    logFormat: args.jsonLogs ? 'json' : 'readable',
    write,
  });
  try {
    if (args.sign) event = signHttpEvent(event as HttpEvent, stack);
    const before = stack.sandbox?.customers();
    const against = stack.target.kind === 'external' ? stack.target.apiUrl : 'a fresh HelpCrunch sandbox';
    write(`Invoking ${args.kind} with ${args.eventFile} against ${against}\n`);
    const result = await stack.functions.invoke(args.kind, event);
    const value = result.ok ? result.value : result.error;
    write(`\n${result.ok ? 'Result' : 'Error'}:\n${JSON.stringify(value, null, 2)}\n`);
    if (stack.queue && !(await stack.queue.eventSource.whenIdle(DRAIN_TIMEOUT_MS))) {
      write(`\nThe worker had not taken every queued job after ${DRAIN_TIMEOUT_MS / 1000} s.\n`);
    }
    if (before && stack.sandbox) {
      const changed = tagsTable(before, stack.sandbox.customers(), { onlyChanged: true });
      write(`\n${changed ? `Sandbox customers changed:\n${changed}` : 'No sandbox customer changed.'}\n`);
    }
    const status = (value as { statusCode?: number } | null)?.statusCode;
    if (status === 401 && stack.sandbox && !args.sign) {
      write('\nThe signature was refused: --sign re-signs the body with the demo secret the sandbox uses.\n');
    }
    return result.ok && !(typeof status === 'number' && status >= 400);
  } finally {
    await stack.close();
  }
}
