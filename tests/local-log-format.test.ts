/** The readable lines the local host prints for what the functions log. */
import { describe, expect, it } from 'vitest';
import { formatLogLine } from '../local/host/log-format';

const entry = (fields: Record<string, unknown>) =>
  JSON.stringify({ level: 'INFO', timestamp: '2026-11-24T08:09:10.123Z', service: 'helpcrunch-untag', ...fields });

describe('formatLogLine', () => {
  it('shows a job outcome as one line: time, status, rule, customer, tags removed and added, reason, requests, ms', () => {
    const job = {
      rule: 'deal-lost',
      customerId: 1001,
      removed: ['Lead', 'Trial user'],
      added: [],
      status: 'untagged',
      requests: 2,
      ms: 12.4,
    };
    expect(formatLogLine(entry({ message: 'job untagged', job }))).toBe(
      '08:09:10   ✓ untagged     deal-lost  customer 1001  − Lead, Trial user  2 requests  12 ms',
    );

    const churned = {
      ...job,
      rule: 'churn',
      removed: ['Subscriber'],
      added: ['Churned'],
      reason: 'conflicting_rules',
      requests: 4,
    };
    expect(formatLogLine(entry({ message: 'job untagged', job: churned }))).toBe(
      '08:09:10   ✓ untagged     churn  customer 1001  − Subscriber  + Churned  conflicting_rules  4 requests  12 ms',
    );
    expect(
      formatLogLine(
        entry({ message: 'job tagged', job: { ...job, removed: [], added: ['Churned'], status: 'tagged' } }),
      ),
    ).toContain('✓ tagged       deal-lost  customer 1001  + Churned  2 requests');

    const skipped = { ...job, removed: [], status: 'skipped', reason: 'tags_absent', requests: 1 };
    expect(formatLogLine(entry({ message: 'job skipped', job: skipped }))).toBe(
      '08:09:10   · skipped      deal-lost  customer 1001  tags_absent  1 request  12 ms',
    );

    const failed = { ...job, removed: [], customerId: null, status: 'failed', reason: 'lookup_unavailable' };
    expect(formatLogLine(entry({ level: 'WARN', message: 'job failed', job: failed }))).toContain(
      '✗ failed       deal-lost  no customer  lookup_unavailable  2 requests',
    );
  });

  it('shows a dry run’s outcomes as what would change', () => {
    const job = {
      rule: 'churn',
      customerId: 1002,
      removed: ['Subscriber'],
      added: ['Churned'],
      status: 'would_untag',
      requests: 2,
      ms: 3,
    };
    expect(formatLogLine(entry({ message: 'job would_untag', dryRun: true, job }))).toBe(
      '08:09:10   ○ would_untag  churn  customer 1002  − Subscriber  + Churned  2 requests  3 ms',
    );
    expect(
      formatLogLine(
        entry({ message: 'job would_tag', dryRun: true, job: { ...job, removed: [], status: 'would_tag' } }),
      ),
    ).toContain('○ would_tag    churn  customer 1002  + Churned');
  });

  it('shows rejected webhooks and events with their reason', () => {
    expect(
      formatLogLine(
        entry({
          level: 'WARN',
          message: 'webhook rejected',
          status: 401,
          code: 'invalid_signature',
          reason: 'Signature does not match',
        }),
      ),
    ).toBe('08:09:10   ✗ rejected 401 invalid_signature: Signature does not match');
    expect(
      formatLogLine(entry({ level: 'ERROR', message: 'event rejected', reason: 'not retryable: invalid_customer: x' })),
    ).toBe('08:09:10   ✗ rejected not retryable: invalid_customer: x');
  });

  it('shows what the queue path does: jobs queued, and messages retried, dead-lettered or deferred', () => {
    expect(formatLogLine(entry({ message: 'jobs queued', queued: 2 }))).toBe('08:09:10   → queued   2 jobs');
    const sqsMessage = { messageId: '059f36b4-87a3-44ab-83d2-661975830a7d', receiveCount: 3 };
    expect(
      formatLogLine(entry({ message: 'message done', sqsMessage: { ...sqsMessage, action: 'done' } })),
    ).toBeUndefined();
    expect(
      formatLogLine(
        entry({
          level: 'WARN',
          message: 'message retry',
          code: 'helpcrunch_unavailable',
          reason: 'HelpCrunch answered 429',
          sqsMessage: { ...sqsMessage, action: 'retry', visibilitySeconds: 40 },
        }),
      ),
    ).toBe(
      '08:09:10   ↻ retry    message 059f36b4, receive 3  helpcrunch_unavailable: HelpCrunch answered 429  (again in 40 s)',
    );
    expect(
      formatLogLine(
        entry({
          level: 'WARN',
          message: 'message dead-letter',
          code: 'invalid_message',
          sqsMessage: { ...sqsMessage, action: 'dead-letter' },
        }),
      ),
    ).toBe('08:09:10   ✗ dead-lettered  message 059f36b4, receive 3  invalid_message');
    expect(
      formatLogLine(
        entry({ level: 'WARN', message: 'message deferred', sqsMessage: { ...sqsMessage, action: 'deferred' } }),
      ),
    ).toContain('↻ deferred message 059f36b4');
    expect(
      formatLogLine(
        entry({
          level: 'WARN',
          message: 'message held',
          sqsMessage: { ...sqsMessage, action: 'held', heldBehind: '2e1424d4-f796-459a-8184-9c92662be6da' },
        }),
      ),
    ).toBe('08:09:10   ↻ held     message 059f36b4, receive 3  (behind message 2e1424d4 of its customer)');
  });

  it('hides EMF metric documents and the empty-metrics note', () => {
    expect(formatLogLine(JSON.stringify({ _aws: { Timestamp: 1 }, JobsUntagged: 1 }))).toBeUndefined();
    expect(
      formatLogLine('No application metrics to publish. The cold-start metric may be published if enabled.'),
    ).toBeUndefined();
  });

  it('keeps other lines: other log entries with their level and error, and plain text as it is', () => {
    expect(
      formatLogLine(
        entry({
          level: 'ERROR',
          message: 'unexpected error',
          error: { message: 'boom', stack: 'Error: boom\n    at x' },
        }),
      ),
    ).toBe('08:09:10   [ERROR] unexpected error\nError: boom\n    at x');
    expect(formatLogLine('plain text')).toBe('plain text');
    expect(formatLogLine('42')).toBe('42');
  });
});
