/**
 * Which event a payload is (its id) and when it occurred: what the ledger deduplicates on and what
 * decides between two events about one customer's tag. A source says where they are
 * (`sources.<name>.eventId` / `occurredAt`, or its scheme's defaults); EventBridge events always
 * carry `id` and `time`. Without an id, a digest of the source and the raw body serves (the same
 * bytes delivered again are the same event); without a time, the moment it was received.
 */
import { BadEventError } from '../errors';
import { digest } from '../digest';
import type { BusEvent } from '../triggers/bus-event';
import type { EventRef } from '../types';
import { parseOccurredAt } from './occurred-at';
import { describeSelector, readSelector } from './selector';
import type { EventSelector } from './types';

/** Times before this are not events of any sender this function serves. */
const EARLIEST = Date.UTC(2000, 0, 1);
/** Clocks drift; an event further in the future than this would hold its tags against every real one until then. */
const FUTURE_TOLERANCE_MS = 60 * 60 * 1000;

export interface IdentitySelectors {
  eventId?: EventSelector;
  occurredAt?: EventSelector;
}

/**
 * The time in ms, or an invalid_occurred_at naming the source and where the time was read (`where`:
 * "field created", "--occurred-at").
 */
export function checkedOccurredAt(value: unknown, source: string, where: string, receivedAt: number): number {
  const fail = (problem: string) =>
    new BadEventError('invalid_occurred_at', `Source '${source}': occurredAt (${where}) ${problem}`);
  if (value === undefined || value === null || value === '') throw fail('is missing');
  const ms = parseOccurredAt(value);
  if (ms === undefined) throw fail('is not a time (ISO 8601, or Unix seconds or milliseconds)');
  if (ms < EARLIEST) throw fail('is before the year 2000');
  if (ms > receivedAt + FUTURE_TOLERANCE_MS) throw fail('is more than an hour in the future');
  return ms;
}

/** A sender's id as text: a non-empty string, or a whole number (JSON ids are sometimes numbers). */
function idText(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value;
  return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : undefined;
}

/** The payload's own event id, where its source's `eventId` says, when it carries one. */
export function givenEventId(
  selectors: IdentitySelectors,
  payload: unknown,
  headers: Record<string, string>,
): string | undefined {
  return selectors.eventId && idText(readSelector(selectors.eventId, payload, headers));
}

/**
 * The payload's own time, where its source's `occurredAt` says; undefined when the source says
 * nothing. Throws invalid_occurred_at when it says and the payload's is missing or not a time.
 */
export function givenOccurredAt(
  source: string,
  selectors: IdentitySelectors,
  payload: unknown,
  headers: Record<string, string>,
  receivedAt: number,
): number | undefined {
  if (!selectors.occurredAt) return undefined;
  const value = readSelector(selectors.occurredAt, payload, headers);
  return checkedOccurredAt(value, source, describeSelector(selectors.occurredAt), receivedAt);
}

/**
 * The event payload number `index` of a webhook request is. Throws invalid_occurred_at when the
 * source says where its time is and this payload's is missing or not a time.
 */
export function webhookEvent(
  source: string,
  selectors: IdentitySelectors,
  request: { payload: unknown; headers: Record<string, string>; rawBody: Buffer; index: number },
  receivedAt: number,
): EventRef {
  const { payload, headers, rawBody, index } = request;
  const id = givenEventId(selectors, payload, headers) ?? `digest:${digest(source, String(index), rawBody)}`;
  const occurredAt = givenOccurredAt(source, selectors, payload, headers, receivedAt) ?? receivedAt;
  return { source, id, occurredAt };
}

/** An EventBridge event: its own id and time. */
export function busEventRef(event: Pick<BusEvent, 'id' | 'source' | 'time'>, receivedAt: number): EventRef {
  return {
    source: event.source,
    id: event.id,
    occurredAt: checkedOccurredAt(event.time, event.source, "the event's time", receivedAt),
  };
}
