/** lib/rules/selector.ts: the one reader of eventType, eventId and occurredAt selectors. */
import { describe, expect, it } from 'vitest';
import { describeSelector, readSelector } from '../lib/rules/selector';

const headers = { 'svix-id': 'msg_svix', 'x-event': 'deal.lost', 'x-empty': '' };

describe('readSelector', () => {
  it('reads a header by any letter case', () => {
    expect(readSelector({ header: 'X-Event' }, {}, headers)).toBe('deal.lost');
  });

  it('takes the first present of alternative headers, an empty one included', () => {
    expect(readSelector({ header: ['webhook-id', 'svix-id'] }, {}, headers)).toBe('msg_svix');
    expect(readSelector({ header: ['x-empty', 'svix-id'] }, {}, headers)).toBe('');
    expect(readSelector({ header: ['webhook-id'] }, {}, headers)).toBeNull();
  });

  it('does not read Object.prototype members as headers', () => {
    expect(readSelector({ header: 'constructor' }, {}, headers)).toBeNull();
    expect(readSelector({ header: '__proto__' }, {}, headers)).toBeNull();
  });

  it('reads a field as JMESPath yields it, numbers and strings as they are', () => {
    const payload = { id: 'evt_1', created: 1686089970, meta: { at: '2026-11-24T07:59:58Z' } };
    expect(readSelector({ field: 'id' }, payload, headers)).toBe('evt_1');
    expect(readSelector({ field: 'created' }, payload, headers)).toBe(1686089970);
    expect(readSelector({ field: 'meta.at' }, payload, headers)).toBe('2026-11-24T07:59:58Z');
  });

  it('is null for a missing field and for an expression that fails on this data', () => {
    expect(readSelector({ field: 'missing.deeper' }, {}, headers)).toBeNull();
    expect(readSelector({ field: 'length(id)' }, { id: 42 }, headers)).toBeNull();
  });
});

describe('describeSelector', () => {
  it('names the header or field', () => {
    expect(describeSelector({ header: 'webhook-id' })).toBe('header webhook-id');
    expect(describeSelector({ header: ['webhook-id', 'svix-id'] })).toBe('header webhook-id or svix-id');
    expect(describeSelector({ field: 'created' })).toBe('field created');
  });
});
