/**
 * Moves the jobs dead-letter queue back into the jobs queue with SQS's own StartMessageMoveTask,
 * after showing how many messages wait there and why (the worker's reason attributes).
 *
 *   npm run redrive -- --stage prod [--region eu-west-1] [--yes] [--sample 100] [--rate 50]
 *
 * Both queues are FIFO. SQS moves the dead letters oldest first, each into its message group (its
 * customer), as new messages with new ids (the developer guide's redrive page). No deduplication
 * window can drop one: a dead letter's deduplication id is its message id when SQS moved it there,
 * or a digest of the failed message's id when the worker did (lib/queue/fifo-ids.ts), never an id
 * the jobs queue's senders use.
 *
 * Needs, on the two queues: sqs:GetQueueUrl, sqs:GetQueueAttributes, sqs:ReceiveMessage,
 * sqs:ChangeMessageVisibility, sqs:StartMessageMoveTask, sqs:ListMessageMoveTasks (dead-letter
 * queue) and sqs:SendMessage (jobs queue). Every message moves, whatever its reason: jobs that
 * cannot succeed (e.g. invalid_message) come back to the dead-letter queue on their first receive.
 */
import { createInterface } from 'node:readline/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { deadLetterReason } from '../lib/queue/dead-letter';

export interface RedriveOptions {
  stage: string;
  region: string;
  service: string;
  /** Skip the confirmation prompt. */
  yes: boolean;
  /** How many dead-lettered messages to read for the reason histogram. */
  sample: number;
  /** Messages moved per second (SQS allows up to 500); undefined lets SQS choose. */
  rate?: number;
  pollMs: number;
}

export interface RedriveIo {
  sqs: SQSClient;
  write(text: string): void;
  confirm(question: string): Promise<boolean>;
  sleep(ms: number): Promise<void>;
  /** Rewrite the progress line in place (a terminal) rather than print a line per change. */
  interactive: boolean;
}

export interface RedriveResult {
  status: 'nothing-to-move' | 'declined' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
  moved: number;
}

const usage =
  'Usage: npm run redrive -- --stage <stage> [--region <region>] [--service <name>] [--yes] [--sample <n>] [--rate <msgs/s>]';

export function parseRedriveArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): RedriveOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      stage: { type: 'string' },
      region: { type: 'string' },
      service: { type: 'string', default: 'helpcrunch-untag' },
      yes: { type: 'boolean', short: 'y', default: false },
      sample: { type: 'string', default: '100' },
      rate: { type: 'string' },
    },
  });
  if (!values.stage) throw new Error(`--stage is required\n${usage}`);
  const count = (name: string, raw: string | undefined, max: number) => {
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > max)
      throw new Error(`--${name} must be an integer from 1 to ${max}`);
    return value;
  };
  return {
    stage: values.stage,
    // serverless.yml's default region, unless the flag or the AWS environment says otherwise.
    region: values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    service: values.service,
    yes: values.yes,
    sample: count('sample', values.sample, 10_000)!,
    rate: count('rate', values.rate, 500),
    pollMs: 2_000,
  };
}

async function queue(sqs: SQSClient, name: string) {
  let url: string | undefined;
  try {
    ({ QueueUrl: url } = await sqs.send(new GetQueueUrlCommand({ QueueName: name })));
  } catch (error) {
    if ((error as Error).name !== 'QueueDoesNotExist') throw error;
  }
  if (!url) throw new Error(`Queue '${name}' does not exist: is the stack deployed with this --stage and --region?`);
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['QueueArn', 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    name,
    url,
    arn: Attributes.QueueArn!,
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/**
 * Reads up to `limit` messages for their reasons. They stay hidden until the sample is complete
 * (so no message is counted twice), then are made visible again for the move.
 */
async function sampleReasons(
  sqs: SQSClient,
  queueUrl: string,
  limit: number,
): Promise<Map<string, { count: number; example: string }>> {
  const reasons = new Map<string, { count: number; example: string }>();
  const sampled: Message[] = [];
  try {
    while (sampled.length < limit) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, limit - sampled.length),
          VisibilityTimeout: 60,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) break;
      sampled.push(...Messages);
      for (const message of Messages) {
        const reason = deadLetterReason(message.MessageAttributes);
        const code = reason?.code ?? '(none: moved by SQS after maxReceiveCount receives)';
        const entry = reasons.get(code) ?? { count: 0, example: reason?.detail ?? '' };
        entry.count++;
        reasons.set(code, entry);
      }
    }
  } finally {
    await release(sqs, queueUrl, sampled);
  }
  return reasons;
}

async function release(sqs: SQSClient, queueUrl: string, messages: Message[]): Promise<void> {
  for (let start = 0; start < messages.length; start += 10) {
    const Entries = messages
      .slice(start, start + 10)
      .map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 0 }));
    await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries }));
  }
}

export async function redrive(options: RedriveOptions, io: RedriveIo): Promise<RedriveResult> {
  const { sqs, write } = io;
  // As serverless.yml names them.
  const deadLetters = await queue(sqs, `${options.service}-${options.stage}-jobs-dlq.fifo`);
  const jobs = await queue(sqs, `${options.service}-${options.stage}-jobs.fifo`);
  write(
    `Dead-letter queue ${deadLetters.name} (${options.region}): ${deadLetters.visible} messages` +
      (deadLetters.inFlight ? `, ${deadLetters.inFlight} in flight\n` : '\n'),
  );
  if (deadLetters.visible === 0) {
    write('Nothing to redrive.\n');
    return { status: 'nothing-to-move', moved: 0 };
  }

  const reasons = await sampleReasons(sqs, deadLetters.url, options.sample);
  const sampled = [...reasons.values()].reduce((sum, { count }) => sum + count, 0);
  write(`Reasons (${sampled} sampled):\n`);
  for (const [code, { count, example }] of [...reasons].sort((a, b) => b[1].count - a[1].count)) {
    write(`  ${String(count).padStart(6)}  ${code}${example ? `  e.g. ${example}` : ''}\n`);
  }

  const question = `Move ${deadLetters.visible} messages back to ${jobs.name}? [y/N] `;
  if (!options.yes && !(await io.confirm(question))) {
    write('Nothing moved.\n');
    return { status: 'declined', moved: 0 };
  }

  const { TaskHandle } = await sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: deadLetters.arn,
      DestinationArn: jobs.arn,
      ...(options.rate !== undefined && { MaxNumberOfMessagesPerSecond: options.rate }),
    }),
  );
  let lastLine = '';
  for (;;) {
    await io.sleep(options.pollMs);
    // The most recent task of this queue is ours: SQS runs one at a time per queue, and
    // reports a TaskHandle only while it runs.
    const { Results: [task] = [] } = await sqs.send(
      new ListMessageMoveTasksCommand({ SourceArn: deadLetters.arn, MaxResults: 1 }),
    );
    if (!task || (task.TaskHandle !== undefined && task.TaskHandle !== TaskHandle)) continue;
    const moved = task.ApproximateNumberOfMessagesMoved ?? 0;
    const total = task.ApproximateNumberOfMessagesToMove ?? deadLetters.visible;
    const percent = total > 0 ? Math.min(100, Math.round((moved / total) * 100)) : 100;
    const line = `${task.Status}: moved ${moved} of ${total} (${percent}%)`;
    if (line !== lastLine) write(io.interactive ? `\r${line.padEnd(lastLine.length)}` : `${line}\n`);
    lastLine = line;
    if (task.Status === 'RUNNING' || task.Status === 'CANCELLING') continue;
    if (io.interactive) write('\n');
    if (task.Status !== 'COMPLETED')
      write(`Move task ${task.Status}${task.FailureReason ? `: ${task.FailureReason}` : ''}\n`);
    return {
      status: task.Status === 'COMPLETED' ? 'COMPLETED' : task.Status === 'CANCELLED' ? 'CANCELLED' : 'FAILED',
      moved,
    };
  }
}

async function main(): Promise<void> {
  const options = parseRedriveArgs(process.argv.slice(2));
  const io: RedriveIo = {
    sqs: new SQSClient({ region: options.region }),
    write: (text) => process.stdout.write(text),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    interactive: Boolean(process.stdout.isTTY),
    async confirm(question) {
      if (!process.stdin.isTTY) throw new Error('Not a terminal: pass --yes to redrive without a prompt');
      const prompt = createInterface({ input: process.stdin, output: process.stdout });
      try {
        return /^y(es)?$/i.test((await prompt.question(question)).trim());
      } finally {
        prompt.close();
      }
    },
  };
  const result = await redrive(options, io);
  if (result.status === 'FAILED' || result.status === 'CANCELLED') process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
