/** Which event a payload is and when it occurred: the sender's id and time where the source says, fallbacks otherwise. */
import { describe, expect, it } from 'vitest';
import { busEventRef, webhookEvent } from '../lib/rules/identity';
import { parseOccurredAt } from '../lib/rules/occurred-at';

const RECEIVED = Date.UTC(2026, 11, 7, 12, 0, 0);

describe('parseOccurredAt', () => {
  it.each([
    ['RFC 3339 with Z', '2026-05-01T12:00:00Z', Date.UTC(2026, 4, 1, 12)],
    ['a fraction', '2026-05-01T12:00:00.123456Z', Date.UTC(2026, 4, 1, 12, 0, 0, 123)],
    ['an offset', '2026-05-01T14:00:00+02:00', Date.UTC(2026, 4, 1, 12)],
    ['an offset without colon', '2026-05-01T14:00:00+0200', Date.UTC(2026, 4, 1, 12)],
    ['a space for T, no zone (UTC)', '2026-05-01 12:00', Date.UTC(2026, 4, 1, 12)],
    ['a date alone (UTC midnight)', '2026-05-01', Date.UTC(2026, 4, 1)],
    ['Unix seconds', 1777636800, Date.UTC(2026, 4, 1, 12)],
    ['Unix seconds with a fraction', 1777636800.5, Date.UTC(2026, 4, 1, 12, 0, 0, 500)],
    ['Unix milliseconds', 1777636800123, Date.UTC(2026, 4, 1, 12, 0, 0, 123)],
    ['Unix seconds as digits', '1777636800', Date.UTC(2026, 4, 1, 12)],
    ['Unix milliseconds as digits', '1777636800123', Date.UTC(2026, 4, 1, 12, 0, 0, 123)],
  ])('reads %s', (_, value, expected) => {
    expect(parseOccurredAt(value)).toBe(expected);
  });

  it.each([
    ['a date that does not exist', '2026-02-30'],
    ['an hour past 23', '2026-05-01T24:00:00Z'],
    ['words', 'yesterday'],
    ['a negative number', -5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a number beyond 2^53 as digits', '123456789012345678901'],
    ['an object', { at: 1 }],
    ['an array', [1777636800]],
    ['a boolean', true],
    ['empty', ''],
    ['Date.parse leniency', 'May 1, 2026'],
  ])('refuses %s', (_, value) => {
    expect(parseOccurredAt(value)).toBeUndefined();
  });
});

describe('webhookEvent', () => {
  const selectors = { eventId: { field: 'id' }, occurredAt: { field: 'created' } };
  const request = (payload: unknown, index = 0) => ({
    payload,
    headers: {},
    rawBody: Buffer.from(JSON.stringify(payload)),
    index,
  });

  it("reads the sender's id and time where the source says", () => {
    expect(webhookEvent('stripe', selectors, request({ id: 'evt_1', created: 1777636800 }), RECEIVED)).toEqual({
      source: 'stripe',
      id: 'evt_1',
      occurredAt: Date.UTC(2026, 4, 1, 12),
    });
  });

  it('reads them from headers too, whatever their letter case in the config', () => {
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': '1777636800' };
    const event = webhookEvent(
      'svix',
      { eventId: { header: 'Webhook-Id' }, occurredAt: { header: 'webhook-timestamp' } },
      { payload: {}, headers, rawBody: Buffer.from('{}'), index: 0 },
      RECEIVED,
    );
    expect(event).toEqual({ source: 'svix', id: 'msg_1', occurredAt: Date.UTC(2026, 4, 1, 12) });
  });

  it('without an id, a digest of the source, the element and the raw body: stable across deliveries, apart per element', () => {
    const first = webhookEvent('crm', {}, request({ deal: 1 }), RECEIVED);
    expect(first.id).toMatch(/^digest:[\w-]{22}$/);
    expect(webhookEvent('crm', {}, request({ deal: 1 }), RECEIVED + 1).id).toBe(first.id);
    expect(webhookEvent('crm', {}, request({ deal: 1 }, 1), RECEIVED).id).not.toBe(first.id);
    expect(webhookEvent('other', {}, request({ deal: 1 }), RECEIVED).id).not.toBe(first.id);
    expect(webhookEvent('crm', { eventId: { field: 'id' } }, request({ id: '' }), RECEIVED).id).toMatch(/^digest:/);
  });

  it('takes a whole-number id as text', () => {
    expect(webhookEvent('crm', { eventId: { field: 'id' } }, request({ id: 42 }), RECEIVED).id).toBe('42');
  });

  it('without a time, the moment it was received', () => {
    expect(webhookEvent('crm', {}, request({}), RECEIVED).occurredAt).toBe(RECEIVED);
  });

  it.each([
    [{ id: 'e' }, "Source 'stripe': occurredAt (field created) is missing"],
    [
      { id: 'e', created: 'soon' },
      "Source 'stripe': occurredAt (field created) is not a time (ISO 8601, or Unix seconds or milliseconds)",
    ],
    [{ id: 'e', created: 915148800 }, "Source 'stripe': occurredAt (field created) is before the year 2000"],
    [
      { id: 'e', created: RECEIVED / 1000 + 7200 },
      "Source 'stripe': occurredAt (field created) is more than an hour in the future",
    ],
  ])('refuses a payload whose configured time is missing or wrong: %j', (payload, message) => {
    expect(() => webhookEvent('stripe', selectors, request(payload), RECEIVED)).toThrowError(
      expect.objectContaining({ code: 'invalid_occurred_at', status: 400, message }),
    );
  });
});

describe('busEventRef', () => {
  it("uses the event's own id and time", () => {
    const event = { id: 'eb-1', source: 'acme.billing', time: '2026-05-01T12:00:00Z' };
    expect(busEventRef(event, RECEIVED)).toEqual({
      source: 'acme.billing',
      id: 'eb-1',
      occurredAt: Date.UTC(2026, 4, 1, 12),
    });
  });

  it('refuses an event whose time is not one', () => {
    expect(() => busEventRef({ id: 'x', source: 'acme', time: 'now' }, RECEIVED)).toThrowError(
      expect.objectContaining({ code: 'invalid_occurred_at' }),
    );
  });
});
