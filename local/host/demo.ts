/**
 * `npm run demo`: sends every sample event (local/host/samples.ts) through a running local host and shows each sandbox
 * customer's tags before and after. Talks to them over HTTP only, like any other client: in queue
 * mode (the webhooks answer 202) it asks the local SQS, through the AWS SDK, until the jobs queue
 * has drained, and only then reads the tags.
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { RulesConfig } from '../../lib/rules/types';
import type { Outcome } from '../../lib/types';
import type { SandboxCustomer, SandboxState } from '../sandbox/helpcrunch-sandbox';
import type { DemoOptions } from './cli';
import type { Sample } from './samples';
import { sendToHost, type HostReply } from './send-event';
import { localQueueNames } from './serverless-config';

/** The host or the sandbox does not answer: the message says how to start it. */
export class DemoUnreachableError extends Error {}

async function request(url: string, init: RequestInit, what: string): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    throw new DemoUnreachableError(
      `Nothing answers at ${url} (${what}). Start it in another terminal with \`npm start\`, or pass the ports it printed (see npm run demo -- --help).`,
    );
  }
}

async function send(hostUrl: string, rules: RulesConfig, sample: Sample): Promise<HostReply> {
  try {
    return await sendToHost(hostUrl, rules, sample);
  } catch (error) {
    // fetch fails with a TypeError when nothing answers.
    if (!(error instanceof TypeError)) throw error;
    throw new DemoUnreachableError(
      `Nothing answers at ${hostUrl} (the function host). Start it in another terminal with \`npm start\`, or pass the ports it printed (see npm run demo -- --help).`,
    );
  }
}

async function sandboxCustomers(
  sandboxUrl: string,
  init: RequestInit = {},
  path = '/_sandbox/state',
): Promise<SandboxCustomer[]> {
  const response = await request(`${sandboxUrl}${path}`, init, 'the HelpCrunch sandbox');
  if (!response.ok)
    throw new DemoUnreachableError(
      `${sandboxUrl} is not the HelpCrunch sandbox (${path} answered ${response.status}).`,
    );
  return ((await response.json()) as SandboxState).customers;
}

/** Jobs the reply says were queued ({"queued": N}: a webhook's 202, an event's result); undefined for an inline reply. */
function queuedBy({ status, body }: HostReply): number | undefined {
  const queued = (body as { queued?: unknown } | null)?.queued;
  return status >= 200 && status < 300 && typeof queued === 'number' ? queued : undefined;
}

function outcomeSummary({ status, body }: HostReply): string {
  const queued = queuedBy({ status, body });
  if (queued !== undefined) return `${status} queued ${queued} job${queued === 1 ? '' : 's'}`;
  const results = (body as { results?: Pick<Outcome, 'rule' | 'customerId' | 'status' | 'reason'>[] } | null)?.results;
  if (status !== 200 || !Array.isArray(results)) return `${status} ${JSON.stringify(body)}`;
  if (results.length === 0) return `${status} no rule matched`;
  return `${status} ${results.map((r) => `${r.rule}: ${r.status}${r.reason ? ` (${r.reason})` : ''}, customer ${r.customerId ?? '?'}`).join('; ')}`;
}

const tagList = (customer: SandboxCustomer | undefined) => customer?.tags.map((tag) => tag.name) ?? [];

/** The before/after table: one row per customer (or per changed one), removed and added tags listed; '' when no row. */
export function tagsTable(before: SandboxCustomer[], after: SandboxCustomer[], { onlyChanged = false } = {}): string {
  const afterById = new Map(after.map((customer) => [customer.id, customer]));
  const changed = (customer: SandboxCustomer) =>
    tagList(customer).join('\n') !== tagList(afterById.get(customer.id)).join('\n');
  const rows = before
    .filter((customer) => !onlyChanged || changed(customer))
    .map((customer) => {
      const was = tagList(customer);
      const now = tagList(afterById.get(customer.id));
      const removed = was.filter((tag) => !now.includes(tag));
      const added = now.filter((tag) => !was.includes(tag));
      const label = `${customer.id} ${customer.name ?? customer.email ?? customer.userId ?? ''}`;
      const show = (tags: string[]) => (tags.length > 0 ? tags.join(', ') : '—');
      const changes = [
        ...(removed.length > 0 ? [`removed ${removed.join(', ')}`] : []),
        ...(added.length > 0 ? [`added ${added.join(', ')}`] : []),
      ];
      return [label, show(was), show(now), changes.join('; ')];
    });
  if (rows.length === 0) return '';
  const header = ['Customer', 'Tags before', 'Tags after', ''];
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column]!.length)));
  return [header, ...rows]
    .map(
      (row) =>
        `  ${row
          .map((cell, column) => cell.padEnd(widths[column]!))
          .join('   ')
          .trimEnd()}`,
    )
    .join('\n');
}

export interface DrainOptions {
  timeoutMs: number;
  pollMs: number;
}

const DRAIN: DrainOptions = { timeoutMs: 60_000, pollMs: 200 };

/** Messages in each local queue: visible, in flight and delayed together. */
async function queueDepths(sqs: SQSClient, sqsUrl: string): Promise<{ jobs: number; deadLetters: number }> {
  const depth = async (name: string) => {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    return Object.values(Attributes).reduce((sum, count) => sum + Number(count), 0);
  };
  const names = localQueueNames();
  try {
    return { jobs: await depth(names.jobs), deadLetters: await depth(names.deadLetters) };
  } catch {
    throw new DemoUnreachableError(
      `The webhooks queued jobs, but no local SQS with the jobs queue answers at ${sqsUrl}. Pass the --sqs-port \`npm start\` printed (see npm run demo -- --help).`,
    );
  }
}

/** Waits until the worker has taken every queued job; says so when it takes longer than `timeoutMs`. */
async function waitForQueue(
  sqsUrl: string,
  write: (text: string) => void,
  { timeoutMs, pollMs }: DrainOptions,
): Promise<void> {
  const sqs = new SQSClient({
    endpoint: sqsUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  try {
    const deadline = Date.now() + timeoutMs;
    let depths = await queueDepths(sqs, sqsUrl);
    if (depths.jobs > 0) write(`\nWaiting for the worker to take the queued jobs…\n`);
    while (depths.jobs > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      depths = await queueDepths(sqs, sqsUrl);
    }
    if (depths.jobs > 0)
      write(
        `${depths.jobs} jobs still queued after ${timeoutMs / 1000} s (HelpCrunch busy?): the tags below may still change.\n`,
      );
    if (depths.deadLetters > 0)
      write(
        `${depths.deadLetters} jobs in the dead-letter queue: see why in npm start's log, or on its sandbox page.\n`,
      );
  } finally {
    sqs.destroy();
  }
}

/** Resolves true when every sample was accepted (2xx). */
export async function runDemo(
  options: DemoOptions,
  samples: readonly Sample[],
  rules: RulesConfig,
  write: (text: string) => void,
  drain: DrainOptions = DRAIN,
): Promise<boolean> {
  const before = options.reset
    ? await sandboxCustomers(options.sandboxUrl, { method: 'POST' }, '/_sandbox/reset')
    : await sandboxCustomers(options.sandboxUrl);
  write(
    `${options.reset ? 'Sandbox reset to the demo customers. ' : ''}Sending ${samples.length} events to ${options.hostUrl}:\n`,
  );
  let allAccepted = true;
  let queued = 0;
  for (const sample of samples) {
    const sent = await send(options.hostUrl, rules, sample);
    allAccepted &&= sent.status >= 200 && sent.status < 300;
    queued += queuedBy(sent) ?? 0;
    write(`  ${sample.title}\n    ${outcomeSummary(sent)}\n`);
  }
  if (queued > 0) await waitForQueue(options.sqsUrl, write, drain);
  const liveView = `${options.sandboxUrl}/${queued > 0 ? `?sqs=${options.sqsUrl}` : ''}`;
  write(`\n${tagsTable(before, await sandboxCustomers(options.sandboxUrl))}\n\nLive view: ${liveView}\n`);
  return allAccepted;
}
