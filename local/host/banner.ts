/** What `npm start` prints once everything listens: where things are, and commands to try. */
import { DEFAULT_RATE_LIMIT, NO_FAULTS, type Faults, type RateLimit } from '../sandbox/helpcrunch-sandbox';
import { DEFAULT_SANDBOX_PORT } from '../sandbox/cli-options';
import { DEFAULT_HOST_PORT, DEFAULT_SQS_PORT } from './cli';
import { eventCurl, webhookCurl } from './curl-commands';
import type { Example } from './examples';
import type { LocalStack } from './local-stack';

export interface BannerOptions {
  rateLimit?: RateLimit;
  faults?: Partial<Faults>;
}

function row(name: string, url: string, note: string): string {
  return `  ${name.padEnd(20)}${url.padEnd(29)} ${note}`;
}

function faultSummary(faults: Partial<Faults>): string | undefined {
  const { rate429, rate5xx, dropRate, latencyMs, retryAfter } = { ...NO_FAULTS, ...faults };
  const active = [
    rate429 > 0 && `${rate429 * 100}% extra 429s (Retry-After: ${retryAfter})`,
    rate5xx > 0 && `${rate5xx * 100}% 500s`,
    dropRate > 0 && `${dropRate * 100}% dropped connections`,
    latencyMs > 0 && `+${latencyMs} ms latency`,
  ].filter(Boolean);
  return active.length > 0 ? active.join(', ') : undefined;
}

const indent = (text: string) => text.replace(/^/gm, '  ');

function exampleCommand(stack: LocalStack, example: Example): string {
  const { rule } = example;
  const removes = `rule ${rule.name} removes ${rule.removeTags.join(', ')}`;
  if (example.kind === 'eventbridge') {
    return indent(`# ${example.name}: ${removes} (EventBridge event from ${example.event.source})\n${eventCurl(stack.hostUrl, example.event)}`);
  }
  const { verify } = stack.rules.sources[example.source]!;
  const signing = verify.scheme === 'none' ? undefined : { verify, secret: stack.secrets[verify.secretId]! };
  return indent(`# ${example.name}: ${removes} (${example.source} webhook, ${verify.scheme})\n${webhookCurl(stack.hostUrl, example.source, example.body, signing)}`);
}

/** `npm run demo`, with the ports when they are not its defaults. */
function demoCommand(stack: LocalStack, sandboxPort: number): string {
  const hostPort = Number(new URL(stack.hostUrl).port);
  const sqsPort = stack.queue?.sqs.port;
  const flags = [
    ...(hostPort === DEFAULT_HOST_PORT ? [] : [`--port ${hostPort}`]),
    ...(sandboxPort === DEFAULT_SANDBOX_PORT ? [] : [`--sandbox-port ${sandboxPort}`]),
    ...(sqsPort === undefined || sqsPort === DEFAULT_SQS_PORT ? [] : [`--sqs-port ${sqsPort}`]),
  ];
  return flags.length > 0 ? `npm run demo -- ${flags.join(' ')}` : 'npm run demo';
}

/** The local SQS row and what dispatch means, in queue mode. */
function queueRows(stack: LocalStack): string[] {
  const { queue } = stack;
  if (!queue) return ['  Dispatch: inline (the webhook and EventBridge functions call HelpCrunch themselves)'];
  return [
    row('SQS', queue.sqs.url, 'the jobs queue and its dead-letter queue, drained by the worker'),
    '  Dispatch: queue, as deployed (webhooks answer 202 {"queued":N}; --dispatch inline calls HelpCrunch directly)',
  ];
}

export function banner(stack: LocalStack, examples: readonly Example[], options: BannerOptions = {}): string {
  const host = row('Function host', stack.hostUrl, 'POST /webhooks/<source>, POST /events');
  if (!stack.sandbox || !stack.secretsManager) {
    const { apiUrl, apiKeySecretId } = stack.target.kind === 'external' ? stack.target : { apiUrl: '?', apiKeySecretId: '?' };
    return [
      `helpcrunch-untag is running locally against ${apiUrl}`,
      `(API key from the Secrets Manager secret ${apiKeySecretId}; webhook secrets from the secretIds in rules.yml)`,
      '',
      host,
      ...queueRows(stack),
      '',
      'Webhooks need signatures made with your real secrets. No sandbox runs: calls change real customers.',
      'Ctrl-C stops everything.',
    ].join('\n');
  }
  const { sandbox, secretsManager } = stack;
  const rateLimit = options.rateLimit ?? DEFAULT_RATE_LIMIT;
  const faults = faultSummary(options.faults ?? {});
  // The page shows the queues too when it knows where the local SQS is.
  const pageUrl = `${sandbox.url.replace(/\/v1$/, '/')}${stack.queue ? `?sqs=${stack.queue.sqs.url}` : ''}`;
  return [
    'helpcrunch-untag is running locally: no AWS account, no HelpCrunch key needed.',
    '',
    host,
    row('HelpCrunch sandbox', sandbox.url, `${rateLimit.requests} requests per ${rateLimit.windowMs / 1000} s, key "${sandbox.apiKey}"`),
    row('Sandbox page', pageUrl, `customers, tags and requests${stack.queue ? ', queues' : ''}, live`),
    row('Secrets Manager', secretsManager.url, 'the API key and a demo secret per webhook source'),
    ...queueRows(stack),
    ...(faults ? [`  Faults injected:    ${faults}`] : []),
    '',
    `Try the examples from another terminal, and watch the tags go on ${pageUrl}`,
    '',
    ...examples.flatMap((example) => [exampleCommand(stack, example), '']),
    `Or send them all and see each customer's tags before and after:  ${demoCommand(stack, sandbox.port)}`,
    'Ctrl-C stops everything.',
  ].join('\n');
}
