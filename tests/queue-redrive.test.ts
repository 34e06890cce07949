/** scripts/redrive.ts against a mocked SQS client: counts and reasons first, then the move task and its progress. */
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { parseRedriveArgs, redrive, type RedriveIo, type RedriveOptions } from '../scripts/redrive';

const sqsMock = mockClient(SQSClient);
const DLQ = {
  name: 'helpcrunch-untag-prod-jobs-dlq.fifo',
  url: 'https://sqs/123/helpcrunch-untag-prod-jobs-dlq.fifo',
  arn: 'arn:aws:sqs:eu-west-1:123:helpcrunch-untag-prod-jobs-dlq.fifo',
};
const JOBS = {
  name: 'helpcrunch-untag-prod-jobs.fifo',
  url: 'https://sqs/123/helpcrunch-untag-prod-jobs.fifo',
  arn: 'arn:aws:sqs:eu-west-1:123:helpcrunch-untag-prod-jobs.fifo',
};

const reason = (code: string, detail: string) => ({
  reason: { DataType: 'String', StringValue: code },
  reasonDetail: { DataType: 'String', StringValue: detail },
});
const deadLetters = [
  {
    MessageId: 'a',
    ReceiptHandle: 'ha',
    Body: '{}',
    MessageAttributes: reason('helpcrunch_unavailable', 'HelpCrunch answered 429 (gave up after 8 attempts)'),
  },
  {
    MessageId: 'b',
    ReceiptHandle: 'hb',
    Body: '{}',
    MessageAttributes: reason('helpcrunch_unavailable', 'HelpCrunch answered 503 (gave up after 8 attempts)'),
  },
  {
    MessageId: 'c',
    ReceiptHandle: 'hc',
    Body: '{}',
    MessageAttributes: reason('helpcrunch_bad_request', 'HelpCrunch rejected the request (400)'),
  },
  { MessageId: 'd', ReceiptHandle: 'hd', Body: '{}' },
];

function setUp(visible = deadLetters.length) {
  sqsMock.reset();
  for (const queue of [DLQ, JOBS]) {
    sqsMock.on(GetQueueUrlCommand, { QueueName: queue.name }).resolves({ QueueUrl: queue.url });
    sqsMock.on(GetQueueAttributesCommand, { QueueUrl: queue.url }).resolves({
      Attributes: {
        QueueArn: queue.arn,
        ApproximateNumberOfMessages: String(queue === DLQ ? visible : 0),
        ApproximateNumberOfMessagesNotVisible: '0',
      },
    });
  }
  sqsMock
    .on(ReceiveMessageCommand)
    .resolvesOnce({ Messages: deadLetters.slice(0, 3) })
    .resolvesOnce({ Messages: deadLetters.slice(3) })
    .resolves({ Messages: [] });
  sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
  sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
  sqsMock
    .on(ListMessageMoveTasksCommand)
    .resolvesOnce({
      Results: [
        {
          TaskHandle: 'task-1',
          Status: 'RUNNING',
          ApproximateNumberOfMessagesMoved: 1,
          ApproximateNumberOfMessagesToMove: 4,
        },
      ],
    })
    .resolvesOnce({
      Results: [
        {
          TaskHandle: 'task-1',
          Status: 'RUNNING',
          ApproximateNumberOfMessagesMoved: 3,
          ApproximateNumberOfMessagesToMove: 4,
        },
      ],
    })
    .resolves({
      Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 4, ApproximateNumberOfMessagesToMove: 4 }],
    });
}

function io(answer: boolean | 'never-asked' = true) {
  const out: string[] = [];
  const questions: string[] = [];
  const value: RedriveIo = {
    sqs: new SQSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
    write: (text) => void out.push(text),
    sleep: async () => undefined,
    interactive: false,
    async confirm(question) {
      if (answer === 'never-asked') throw new Error('confirm must not be called');
      questions.push(question);
      return answer;
    },
  };
  return { io: value, text: () => out.join(''), questions };
}

const options = (overrides: Partial<RedriveOptions> = {}): RedriveOptions => ({
  stage: 'prod',
  region: 'eu-west-1',
  service: 'helpcrunch-untag',
  yes: false,
  sample: 100,
  pollMs: 2_000,
  ...overrides,
});

afterAll(() => sqsMock.restore());
beforeEach(() => setUp());

describe('redrive', () => {
  it('shows the count and reasons, asks, moves everything back to the jobs queue and follows the task', async () => {
    const session = io(true);
    const result = await redrive(options(), session.io);

    expect(result).toEqual({ status: 'COMPLETED', moved: 4 });
    const text = session.text();
    expect(text).toContain('Dead-letter queue helpcrunch-untag-prod-jobs-dlq.fifo (eu-west-1): 4 messages');
    expect(text).toMatch(/2 {2}helpcrunch_unavailable {2}e\.g\. HelpCrunch answered 429 \(gave up after 8 attempts\)/);
    expect(text).toMatch(/1 {2}helpcrunch_bad_request/);
    expect(text).toMatch(/1 {2}\(none: moved by SQS after maxReceiveCount receives\)/);
    expect(session.questions).toEqual(['Move 4 messages back to helpcrunch-untag-prod-jobs.fifo? [y/N] ']);
    expect(text).toContain(
      'RUNNING: moved 1 of 4 (25%)\nRUNNING: moved 3 of 4 (75%)\nCOMPLETED: moved 4 of 4 (100%)\n',
    );

    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand).map((call) => call.args[0].input)).toEqual([
      { SourceArn: DLQ.arn, DestinationArn: JOBS.arn },
    ]);
    // The sampled messages were put back (visible again) before the move started.
    const released = sqsMock
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .flatMap((call) => call.args[0].input.Entries!);
    expect(released.map((entry) => [entry.ReceiptHandle, entry.VisibilityTimeout])).toEqual([
      ['ha', 0],
      ['hb', 0],
      ['hc', 0],
      ['hd', 0],
    ]);
    expect(sqsMock.commandCalls(ReceiveMessageCommand)[0]!.args[0].input).toMatchObject({
      QueueUrl: DLQ.url,
      MessageAttributeNames: ['All'],
    });
  });

  it('moves nothing when the answer is no', async () => {
    const result = await redrive(options(), io(false).io);

    expect(result).toEqual({ status: 'declined', moved: 0 });
    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)).toEqual([]);
  });

  it('--yes skips the question; --rate sets the move rate', async () => {
    await redrive(options({ yes: true, rate: 50 }), io('never-asked').io);

    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)[0]!.args[0].input.MaxNumberOfMessagesPerSecond).toBe(50);
  });

  it('samples no more than asked', async () => {
    await redrive(options({ yes: true, sample: 2 }), io().io);

    expect(sqsMock.commandCalls(ReceiveMessageCommand).map((call) => call.args[0].input.MaxNumberOfMessages)).toEqual([
      2,
    ]);
  });

  it('does nothing for an empty dead-letter queue', async () => {
    setUp(0);
    const session = io('never-asked');

    await expect(redrive(options(), session.io)).resolves.toEqual({ status: 'nothing-to-move', moved: 0 });
    expect(session.text()).toContain('Nothing to redrive.');
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toEqual([]);
  });

  it('reports a failed move task with its reason', async () => {
    sqsMock.on(ListMessageMoveTasksCommand).resolves({
      Results: [
        {
          Status: 'FAILED',
          FailureReason: 'AccessDenied',
          ApproximateNumberOfMessagesMoved: 1,
          ApproximateNumberOfMessagesToMove: 4,
        },
      ],
    });
    const session = io();

    await expect(redrive(options({ yes: true }), session.io)).resolves.toEqual({ status: 'FAILED', moved: 1 });
    expect(session.text()).toContain('Move task FAILED: AccessDenied');
  });

  it('names the stage and region when the queue does not exist', async () => {
    sqsMock.on(GetQueueUrlCommand).rejects(new QueueDoesNotExist({ message: 'nope', $metadata: {} }));

    await expect(redrive(options({ stage: 'staging' }), io().io)).rejects.toThrow(
      "Queue 'helpcrunch-untag-staging-jobs-dlq.fifo' does not exist: is the stack deployed with this --stage and --region?",
    );
  });
});

describe('parseRedriveArgs', () => {
  it('requires --stage and defaults the rest', () => {
    expect(() => parseRedriveArgs([], {})).toThrow('--stage is required');
    expect(parseRedriveArgs(['--stage', 'prod'], {})).toEqual({
      stage: 'prod',
      region: 'us-east-1',
      service: 'helpcrunch-untag',
      yes: false,
      sample: 100,
      rate: undefined,
      pollMs: 2_000,
    });
  });

  it('takes the region from the flag, else the AWS environment', () => {
    expect(parseRedriveArgs(['--stage', 'prod'], { AWS_REGION: 'eu-central-1' }).region).toBe('eu-central-1');
    expect(
      parseRedriveArgs(['--stage', 'prod', '--region', 'ap-south-1', '--yes', '--rate', '20'], {
        AWS_REGION: 'eu-central-1',
      }),
    ).toMatchObject({
      region: 'ap-south-1',
      yes: true,
      rate: 20,
    });
  });

  it('rejects a move rate above SQS’s 500 per second', () => {
    expect(() => parseRedriveArgs(['--stage', 'prod', '--rate', '501'], {})).toThrow(
      '--rate must be an integer from 1 to 500',
    );
  });
});
