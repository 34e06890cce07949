/** What `npm start` prints once everything listens: where things are, and commands to try. */
import { DEFAULT_RATE_LIMIT, NO_FAULTS, type Faults, type RateLimit } from '../sandbox/helpcrunch-sandbox';
import { DEFAULT_SANDBOX_PORT } from '../sandbox/cli-options';
import { DEFAULT_HOST_PORT, DEFAULT_SQS_PORT } from './cli';
import { eventCurl, webhookCurl } from './curl-commands';
import type { Sample, Samples } from './samples';
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

function sampleCommand(stack: LocalStack, { title, trigger, payload }: Sample): string {
  if (trigger.kind === 'eventbridge') {
    return indent(
      `# ${title}\n${eventCurl(stack.hostUrl, { source: trigger.source, 'detail-type': trigger.detailType, detail: payload })}`,
    );
  }
  const { verify } = stack.rules.sources[trigger.source]!;
  const signing = verify.scheme === 'none' ? undefined : { verify, secret: stack.secrets[verify.secretId]! };
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return indent(
    `# ${title} (${trigger.source} webhook, ${verify.scheme})\n${webhookCurl(stack.hostUrl, trigger.source, body, signing, trigger.headers)}`,
  );
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

/** The local DynamoDB row: in either mode, whoever applies jobs keeps the ledger. */
function dynamoDbRow({ dynamoDb }: LocalStack): string {
  return row('DynamoDB', dynamoDb.url, `dynalite, in memory: ${dynamoDb.tableNames.join(', ')}`);
}

/** The local SQS row and what dispatch means, in queue mode. */
function queueRows(stack: LocalStack): string[] {
  const { queue } = stack;
  if (!queue) return ['  Dispatch: inline (the webhook and EventBridge functions call HelpCrunch themselves)'];
  return [
    row(
      'SQS',
      queue.sqs.url,
      'the FIFO jobs queue (a group per customer) and its dead-letter queue, for the worker; the backfill queue (npm run backfill -- --local)',
    ),
    '  Dispatch: queue, as deployed (webhooks answer 202 {"queued":N}; --dispatch inline calls HelpCrunch directly)',
  ];
}

const DRY_RUN_LINE =
  '  Dry run: HelpCrunch gets no PUT or DELETE; jobs say would_untag / would_tag, every log line "dryRun":true';

export function banner(stack: LocalStack, { samples, fromRuleTests }: Samples, options: BannerOptions = {}): string {
  const host = row('Function host', stack.hostUrl, 'POST /webhooks/<source>, POST /events');
  if (!stack.sandbox || !stack.secretsManager) {
    const { apiUrl, apiKeySecretId } =
      stack.target.kind === 'external' ? stack.target : { apiUrl: '?', apiKeySecretId: '?' };
    return [
      `helpcrunch-untag is running locally against ${apiUrl}`,
      `(API key from the Secrets Manager secret ${apiKeySecretId}; webhook secrets from the secretIds in rules.yml)`,
      '',
      host,
      dynamoDbRow(stack),
      ...queueRows(stack),
      ...(stack.dryRun ? [DRY_RUN_LINE] : []),
      '',
      stack.dryRun
        ? 'Webhooks need signatures made with your real secrets. No sandbox runs, but a dry run changes no customer.'
        : 'Webhooks need signatures made with your real secrets. No sandbox runs: calls change real customers.',
      'Ctrl-C stops everything.',
    ].join('\n');
  }
  const { sandbox, secretsManager, vendorApis } = stack;
  const rateLimit = options.rateLimit ?? DEFAULT_RATE_LIMIT;
  const faults = faultSummary(options.faults ?? {});
  // The page shows the queues too when it knows where the local SQS is.
  const pageUrl = `${sandbox.url.replace(/\/v1$/, '/')}${stack.queue ? `?sqs=${stack.queue.sqs.url}` : ''}`;
  return [
    'helpcrunch-untag is running locally: no AWS account, no HelpCrunch key needed.',
    '',
    host,
    row(
      'HelpCrunch sandbox',
      sandbox.url,
      `${rateLimit.requests} requests per ${rateLimit.windowMs / 1000} s, key "${sandbox.apiKey}"`,
    ),
    row('Sandbox page', pageUrl, `customers, tags and requests${stack.queue ? ', queues' : ''}, live`),
    ...(vendorApis
      ? [row('Vendor APIs', vendorApis.url, 'Stripe, Paddle, Pipedrive and HubSpot stand-ins every lookup calls')]
      : []),
    row('Secrets Manager', secretsManager.url, 'the API key, a demo secret per webhook source and lookup'),
    dynamoDbRow(stack),
    ...queueRows(stack),
    ...(stack.dryRun ? [DRY_RUN_LINE] : []),
    ...(faults ? [`  Faults injected:    ${faults}`] : []),
    '',
    fromRuleTests
      ? `Try the events of your rule tests from another terminal, and watch the tags change on ${pageUrl}`
      : `No rule tests for these rules that change the demo customers' tags (README, "Rule tests"): these show how to\nreach each source, with an empty payload to replace by a real one. Watch the tags on ${pageUrl}`,
    '',
    ...samples.flatMap((sample) => [sampleCommand(stack, sample), '']),
    // npm run demo sends rule-test events only: placeholders would be refused.
    ...(fromRuleTests
      ? [`Or send them all and see each customer's tags before and after:  ${demoCommand(stack, sandbox.port)}`]
      : []),
    'Ctrl-C stops everything.',
  ].join('\n');
}
