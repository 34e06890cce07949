/** Job message bodies outlive deployments: this version's (a unit), and versions 1 and 2's (one job) still in queues. */
import { describe, expect, it } from 'vitest';
import { jobMessage, parseJobMessage, unitOf } from '../lib/queue/job-message';
import type { Unit } from '../lib/types';

const SENT_AT = Date.UTC(2026, 10, 1, 9, 30);
const event = { source: 'stripe', id: 'evt-1', occurredAt: Date.UTC(2026, 10, 1, 9) };
const customer = { by: 'lookup', lookup: 'stripe', value: 'cus_1' } as const;
const unit: Unit = {
  event,
  customer,
  jobs: [
    { rule: 'churned', customer, removeTags: ['Subscriber'], addTags: ['Churned'] },
    { rule: 'flag', customer, removeTags: [], addTags: ['Win-back'] },
  ],
};

describe('parseJobMessage', () => {
  it('reads back what jobMessage writes: the event with its time, the reference and every job', () => {
    const body = JSON.stringify(jobMessage(unit, 2));
    const message = parseJobMessage(body, SENT_AT);
    expect(message).toEqual({
      v: 3,
      event,
      customer,
      jobs: [
        { rule: 'churned', removeTags: ['Subscriber'], addTags: ['Churned'] },
        { rule: 'flag', removeTags: [], addTags: ['Win-back'] },
      ],
      attempt: 2,
    });
    expect(unitOf(message)).toEqual(unit);
  });

  it('reads a version 2 body (one job, no time) as a unit of one job, timed when it was sent', () => {
    const v2 = {
      v: 2,
      eventId: 'evt-1',
      source: 'stripe',
      rule: 'churned',
      customer,
      removeTags: ['A'],
      addTags: ['B'],
      attempt: 1,
    };
    expect(parseJobMessage(JSON.stringify(v2), SENT_AT)).toEqual({
      v: 3,
      event: { source: 'stripe', id: 'evt-1', occurredAt: SENT_AT },
      customer,
      jobs: [{ rule: 'churned', removeTags: ['A'], addTags: ['B'] }],
      attempt: 1,
    });
  });

  it('reads a version 1 body (tags removed, customer by id) as this version', () => {
    const v1 = {
      v: 1,
      eventId: 'evt-1',
      source: 'stripe',
      rule: 'closed',
      customer: { by: 'id', value: 1004 },
      tags: ['VIP'],
      attempt: 1,
    };
    expect(parseJobMessage(JSON.stringify(v1), SENT_AT)).toEqual({
      v: 3,
      event: { source: 'stripe', id: 'evt-1', occurredAt: SENT_AT },
      customer: { by: 'helpcrunchId', value: 1004 },
      jobs: [{ rule: 'closed', removeTags: ['VIP'], addTags: [] }],
      attempt: 1,
    });
  });

  it.each([
    ['no jobs', { jobs: [] }],
    ['a job with both tag lists empty', { jobs: [{ rule: 'r', removeTags: [], addTags: [] }] }],
    ['a lookup without its name', { customer: { by: 'lookup', value: 'cus_1' } }],
    ['an unsafe id', { customer: { by: 'helpcrunchId', value: 2 ** 53 } }],
    ['an email longer than any reference', { customer: { by: 'email', value: `${'a'.repeat(600)}@example.com` } }],
    ['an email with a lone surrogate', { customer: { by: 'email', value: 'a\uD800@example.com' } }],
    ['a tag that is not text', { jobs: [{ rule: 'r', removeTags: [7], addTags: [] }] }],
    ['an event without a time', { event: { source: 'crm', id: 'e' } }],
    ['an event time that is not whole ms', { event: { source: 'crm', id: 'e', occurredAt: 1.5 } }],
    ['a negative attempt', { attempt: -1 }],
    ['another version', { v: 4 }],
  ])('refuses %s as invalid_message', (_, change) => {
    const body = JSON.stringify({ ...jobMessage(unit), ...change });
    expect(() => parseJobMessage(body, SENT_AT)).toThrowError(expect.objectContaining({ code: 'invalid_message' }));
  });

  it.each([
    ['not JSON', '{'],
    ['an array', '[]'],
    ['null', 'null'],
  ])('refuses a body that is %s', (_, body) => {
    expect(() => parseJobMessage(body, SENT_AT)).toThrowError(expect.objectContaining({ code: 'invalid_message' }));
  });
});
