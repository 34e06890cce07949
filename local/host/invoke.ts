/**
 * `npm run invoke`: one event through one function, against a fresh sandbox (or, with
 * HELPCRUNCH_API_URL, the real API). The event is a vendor's raw payload, wrapped as API Gateway
 * or EventBridge would deliver it, or a whole Lambda event from a file. Invoke waits until every
 * job is done (in queue dispatch the worker takes them), prints each job's outcome and what
 * changed, and exits non-zero when the event was refused or a job failed. `--explain` says, rule
 * by rule, why it matched or not.
 */
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { compileRules, type Explanation } from '../../lib/rules/match';
import { parseWebhookPayloads } from '../../lib/triggers/webhook-payloads';
import { readSetting, UsageError } from '../sandbox/cli-options';
import { hostSettings, parseUsage } from './cli';
import { loadCustomersFile } from './customers-file';
import { tagsTable } from './demo';
import { toEventBridgeEvent } from './eventbridge-event';
import { explanationText } from './explain-text';
import { startLocalStack, type DispatchMode, type LocalStack } from './local-stack';
import { signWebhookRequest } from './webhook-signing';

export const INVOKE_HELP = `npm run invoke -- webhook <payload.json> --source <name> [--header 'Name: value']… [--sign] [options]
npm run invoke -- eventbridge <detail.json> --source <source> --detail-type <type> [options]
npm run invoke -- <webhook|eventbridge> <lambda-event.json> [--sign] [options]

Sends one event through the function: a vendor's payload (as the sender posts it to
/webhooks/<source>, or an EventBridge event's detail), or a whole Lambda event (an API Gateway
HTTP API 2.0 / REST 1.0 / Function URL event, an EventBridge event). Runs against a fresh
HelpCrunch sandbox with the demo customers, or the real HelpCrunch when HELPCRUNCH_API_URL is
set (see npm start). Waits until every job is done, prints each job's outcome, and exits 1 when
the event was refused or a job failed.

  --source          webhook: the rules.yml source (POST /webhooks/<source>); eventbridge: the event's source
  --detail-type     eventbridge: the event's detail-type
  --header          webhook: a request header, 'Name: value' (repeat for more)
  --sign            sign a webhook with the sandbox's demo secret for its source (as the sender would)
  --customers       sandbox customers: a JSON file like local/sandbox/demo-customers.json (the default),
                    or a YAML file's top-level customers as rule tests write them (docs/local.md)
  --rules           the rules file the functions run with (default rules.yml)
  --explain         say, rule by rule, why it matched or not, with the values the expressions gave
  --dispatch        queue (default, as deployed): the worker takes the jobs; inline: the function calls HelpCrunch
  --json-logs       print the function's JSON log lines as they are`;

/** How long the worker may take the queued jobs before invoke gives up waiting. */
const DRAIN_TIMEOUT_MS = 60_000;

export const FUNCTION_KINDS = ['webhook', 'eventbridge'] as const;
type FunctionKind = (typeof FUNCTION_KINDS)[number];

export interface InvokeArgs {
  kind: FunctionKind;
  file: string;
  /** Raw payloads: the webhook source or EventBridge source; absent for a whole Lambda event. */
  source?: string;
  detailType?: string;
  headers: Record<string, string>;
  sign: boolean;
  explain: boolean;
  jsonLogs: boolean;
  customersFile?: string;
  /** Default the project's rules.yml. */
  rulesFile?: string;
  /** Default serverless.yml's. */
  dispatch?: DispatchMode;
}

export function parseInvokeArgs(args: readonly string[], env: NodeJS.ProcessEnv = {}): InvokeArgs | undefined {
  const { values, positionals } = parseUsage(args, {
    source: { type: 'string' },
    'detail-type': { type: 'string' },
    header: { type: 'string', multiple: true },
    sign: { type: 'boolean' },
    explain: { type: 'boolean' },
    customers: { type: 'string' },
    rules: { type: 'string' },
    dispatch: { type: 'string' },
    'json-logs': { type: 'boolean' },
    help: { type: 'boolean' },
  });
  if (values.help) return undefined;
  const [kind, file, ...extra] = positionals;
  if (!FUNCTION_KINDS.includes(kind as FunctionKind) || !file || extra.length > 0) {
    throw new UsageError(`Expected <webhook|eventbridge> <file.json>, got: ${positionals.join(' ') || 'nothing'}`);
  }
  const source = values.source as string | undefined;
  const detailType = values['detail-type'] as string | undefined;
  if (kind === 'webhook' && detailType !== undefined) throw new UsageError('--detail-type is for eventbridge');
  if (kind === 'eventbridge' && (source === undefined) !== (detailType === undefined)) {
    throw new UsageError(
      'An EventBridge detail needs both --source and --detail-type (or give a whole EventBridge event)',
    );
  }
  const headerValues = (values.header as string[] | undefined) ?? [];
  if (headerValues.length > 0 && (kind !== 'webhook' || source === undefined))
    throw new UsageError('--header goes with webhook <payload.json> --source <name>');
  const dispatch = readSetting(hostSettings.dispatch, values, env);
  return {
    kind: kind as FunctionKind,
    file,
    ...(source !== undefined && { source }),
    ...(detailType !== undefined && { detailType }),
    headers: Object.fromEntries(headerValues.map(parseHeader)),
    sign: values.sign === true,
    explain: values.explain === true,
    jsonLogs: values['json-logs'] === true,
    ...(typeof values.customers === 'string' && { customersFile: values.customers }),
    ...(typeof values.rules === 'string' && { rulesFile: values.rules }),
    ...(dispatch && { dispatch }),
  };
}

function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new UsageError(`--header must be 'Name: value', got '${text}'`);
  return [text.slice(0, colon).trim(), text.slice(colon + 1).trim()];
}

type HttpEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent;

/**
 * The request to `target` that authenticates `body` for `source` with its demo secret: headers,
 * and the query parameter of a source whose secret travels in the URL. `calledUrl`: the URL
 * HubSpot signs (the function rebuilds it as https on the host it was sent to).
 */
function signedRequest(
  stack: LocalStack,
  source: string,
  body: Buffer,
  target: string,
  calledUrl: string,
): { url: string; headers: Record<string, string> } {
  const verify = stack.rules.sources[source]?.verify;
  if (!verify) throw new UsageError(`rules.yml has no webhook source '${source}'`);
  if (verify.scheme === 'none') return { url: target, headers: {} };
  const secret = stack.secrets[verify.secretId];
  if (secret === undefined)
    throw new UsageError(
      '--sign needs the sandbox: it signs with the demo secrets, which the real endpoints do not accept',
    );
  return signWebhookRequest(verify, secret, body, target, { url: calledUrl });
}

/** A whole webhook event with fresh signature headers for its body. */
export function signHttpEvent(event: HttpEvent, stack: LocalStack): HttpEvent {
  const path = 'rawPath' in event ? event.rawPath : event.path;
  const source = event.pathParameters?.source ?? decodeURIComponent(path.split('/').pop() ?? '');
  const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  const domain = event.requestContext?.domainName ?? 'localhost';
  const calledUrl = `https://${domain}${path}`;
  const request = signedRequest(stack, source, body, calledUrl, calledUrl);
  if (request.url !== calledUrl)
    throw new UsageError(
      `--sign cannot put source '${source}''s secret into a whole event's query: send the payload with --source instead`,
    );
  const signed = Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const replaced = <T>(record: Record<string, T> | null | undefined, value: (text: string) => T) => ({
    ...Object.fromEntries(Object.entries(record ?? {}).filter(([name]) => !(name.toLowerCase() in signed))),
    ...Object.fromEntries(Object.entries(signed).map(([name, text]) => [name, value(text)])),
  });
  const headers = replaced(event.headers as Record<string, string>, (text) => text);
  if ('multiValueHeaders' in event && event.multiValueHeaders) {
    return {
      ...event,
      headers,
      multiValueHeaders: replaced(event.multiValueHeaders as Record<string, string[]>, (text) => [text]),
    };
  }
  return { ...event, headers };
}

interface JobLine {
  rule: string;
  status: string;
  reason?: string;
}

/** What the function replied: a webhook's status and body, or an event's result or rejection. */
interface Reply {
  ok: boolean;
  text: string;
}

/** Resolves true when the event was accepted and no job failed. */
export async function runInvoke(
  args: InvokeArgs,
  env: NodeJS.ProcessEnv,
  write: (text: string) => void,
): Promise<boolean> {
  let content: unknown;
  try {
    content = JSON.parse(readFileSync(args.file, 'utf8'));
  } catch (error) {
    throw new UsageError(`Cannot read JSON from ${args.file}: ${(error as Error).message}`);
  }
  const jobs: JobLine[] = [];
  const stack = await startLocalStack({
    env,
    ...(args.rulesFile && { rulesFile: args.rulesFile }),
    dispatch: args.dispatch,
    functions: [args.kind],
    logFormat: args.jsonLogs ? 'json' : 'readable',
    write,
    onFunctionOutput: (line) => {
      const job = jobOf(line);
      if (job) jobs.push(job);
    },
    ...(args.customersFile && { sandbox: { customers: loadCustomersFile(args.customersFile) } }),
  });
  try {
    const before = stack.sandbox?.customers();
    const against = stack.target.kind === 'external' ? stack.target.apiUrl : 'a fresh HelpCrunch sandbox';
    write(`Invoking ${args.kind} with ${args.file} against ${against}\n`);
    const reply =
      args.kind === 'webhook'
        ? await invokeWebhook(stack, args, content, write)
        : await invokeEvent(stack, args, content, write);
    write(`\n${reply.text}\n`);
    if (stack.queue && !(await stack.queue.eventSource.whenIdle(DRAIN_TIMEOUT_MS))) {
      write(`\nThe worker had not taken every queued job after ${DRAIN_TIMEOUT_MS / 1000} s.\n`);
      return false;
    }
    write(`\n${outcomesText(jobs)}\n`);
    if (before && stack.sandbox) {
      const changed = tagsTable(before, stack.sandbox.customers(), { onlyChanged: true });
      write(`\n${changed ? `Sandbox customers changed:\n${changed}` : 'No sandbox customer changed.'}\n`);
    }
    return reply.ok && !jobs.some((job) => job.status === 'failed');
  } finally {
    await stack.close();
  }
}

async function invokeWebhook(
  stack: LocalStack,
  args: InvokeArgs,
  content: unknown,
  write: (text: string) => void,
): Promise<Reply> {
  let status: number;
  let bodyText: string;
  if (args.source === undefined) {
    // A whole Lambda event, invoked as API Gateway would.
    const event = args.sign ? signHttpEvent(content as HttpEvent, stack) : (content as HttpEvent);
    if (args.explain) explainHttpEvent(stack, event, write);
    const result = await stack.functions.invoke('webhook', event);
    if (!result.ok) return { ok: false, text: `Error:\n${JSON.stringify(result.error, null, 2)}` };
    ({ statusCode: status = 200, body: bodyText = '' } = result.value as { statusCode?: number; body?: string });
  } else {
    // A raw payload, posted to the local host as the sender would; a JSON string is the body it
    // holds (a form-encoded one: give its content type with --header).
    const body = Buffer.from(typeof content === 'string' ? content : JSON.stringify(content));
    const target = `${stack.hostUrl}/webhooks/${encodeURIComponent(args.source)}`;
    const signed = args.sign
      ? signedRequest(stack, args.source, body, target, `https://${new URL(target).host}${new URL(target).pathname}`)
      : { url: target, headers: {} };
    // The sender's own headers replace the default and signature headers of the same name, in any letter case.
    const headers = new Headers({ 'content-type': 'application/json', ...signed.headers });
    for (const [name, value] of Object.entries(args.headers)) headers.set(name, value);
    if (args.explain) write(explanationText(explainWebhook(stack, args.source, body, Object.fromEntries(headers))));
    const response = await fetch(signed.url, { method: 'POST', headers, body });
    status = response.status;
    bodyText = await response.text();
  }
  const hint =
    status === 401 && stack.sandbox && !args.sign
      ? '\nThe signature was refused: --sign signs the body with the demo secret the sandbox uses.'
      : '';
  return { ok: status < 400, text: `Reply ${status}:\n${prettyJson(bodyText)}${hint}` };
}

async function invokeEvent(
  stack: LocalStack,
  args: InvokeArgs,
  content: unknown,
  write: (text: string) => void,
): Promise<Reply> {
  const given =
    args.source === undefined ? content : { source: args.source, 'detail-type': args.detailType, detail: content };
  const parsed = toEventBridgeEvent(given);
  if ('error' in parsed) throw new UsageError(parsed.error);
  const { event } = parsed;
  if (args.explain) {
    const explanation = compileRules(stack.rules).explainEvent({
      source: event.source,
      detailType: event['detail-type'],
      detail: event.detail,
    });
    write(explanationText([explanation]));
  }
  const result = await stack.functions.invoke('eventbridge', event);
  return result.ok
    ? { ok: true, text: `Result:\n${JSON.stringify(result.value, null, 2)}` }
    : { ok: false, text: `Rejected:\n${JSON.stringify(result.error, null, 2)}` };
}

/** One explanation per payload of the body (a batch has several), as the function matches them. */
function explainWebhook(
  stack: LocalStack,
  source: string,
  body: Buffer,
  headers: Record<string, string>,
): Explanation[] {
  const rules = compileRules(stack.rules);
  const lower = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return parseWebhookPayloads(body, lower['content-type']).map((payload) =>
    rules.explainWebhook({ source, payload, headers: lower }),
  );
}

function explainHttpEvent(stack: LocalStack, event: HttpEvent, write: (text: string) => void): void {
  const path = 'rawPath' in event ? event.rawPath : event.path;
  const source = event.pathParameters?.source ?? decodeURIComponent(path.split('/').pop() ?? '');
  const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  write(explanationText(explainWebhook(stack, source, body, (event.headers ?? {}) as Record<string, string>)));
}

function outcomesText(jobs: JobLine[]): string {
  if (jobs.length === 0) return 'No job: no rule matched (or the event was refused).';
  const counts = new Map<string, number>();
  for (const job of jobs) {
    const key = job.reason ? `${job.status} (${job.reason})` : job.status;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return `Jobs: ${[...counts].map(([key, count]) => `${count} ${key}`).join(', ')}`;
}

/** A job line the functions log (Powertools JSON, message "job <status>"). */
function jobOf(line: string): JobLine | undefined {
  try {
    const entry = JSON.parse(line) as { message?: unknown; job?: JobLine };
    return typeof entry.message === 'string' && entry.message.startsWith('job ') ? entry.job : undefined;
  } catch {
    return undefined;
  }
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
