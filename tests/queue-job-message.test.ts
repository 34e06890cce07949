/** Job message bodies outlive deployments: this version's, and version 1's still in queues. */
import { describe, expect, it } from 'vitest';
import { jobMessage, parseJobMessage } from '../lib/queue/job-message';

const origin = { eventId: 'evt-1', source: 'stripe' };

describe('parseJobMessage', () => {
  it('reads back what jobMessage writes, lookups and both tag lists included', () => {
    const job = {
      rule: 'churned',
      customer: { by: 'lookup' as const, lookup: 'stripe', value: 'cus_1' },
      removeTags: ['Subscriber'],
      addTags: ['Churned'],
    };
    const body = JSON.stringify(jobMessage(job, origin, 2));
    expect(parseJobMessage(body)).toEqual({ v: 2, ...origin, ...job, attempt: 2 });
  });

  it('reads a version 1 body (tags removed, customer by id) as this version', () => {
    const v1 = { v: 1, ...origin, rule: 'closed', customer: { by: 'id', value: 1004 }, tags: ['VIP'], attempt: 1 };
    expect(parseJobMessage(JSON.stringify(v1))).toEqual({
      v: 2,
      ...origin,
      rule: 'closed',
      customer: { by: 'helpcrunchId', value: 1004 },
      removeTags: ['VIP'],
      addTags: [],
      attempt: 1,
    });
  });

  it.each([
    ['both tag lists empty', { removeTags: [], addTags: [] }],
    ['a lookup without its name', { customer: { by: 'lookup', value: 'cus_1' } }],
    ['an unsafe id', { customer: { by: 'helpcrunchId', value: 2 ** 53 } }],
    ['a tag that is not text', { addTags: [7] }],
  ])('refuses %s as invalid_message', (_, change) => {
    const body = JSON.stringify({
      ...jobMessage(
        { rule: 'r', customer: { by: 'email', value: 'a@example.com' }, removeTags: ['A'], addTags: [] },
        origin,
      ),
      ...change,
    });
    expect(() => parseJobMessage(body)).toThrowError(expect.objectContaining({ code: 'invalid_message' }));
  });
});
