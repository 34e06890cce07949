/**
 * The event the EventBridge function receives, from what a local caller posts: a whole EventBridge
 * event, or just `{source, detail-type, detail}` with the envelope filled in as EventBridge does.
 */
import { randomUUID } from 'node:crypto';
import type { EventBridgeEvent } from 'aws-lambda';

export type EventParse = { event: EventBridgeEvent<string, unknown> } | { error: string };

export const EVENT_SHAPE = 'an EventBridge event or {"source": "…", "detail-type": "…", "detail": {…}}';

export function toEventBridgeEvent(value: unknown, { nowMs = Date.now(), region = 'us-east-1' } = {}): EventParse {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { error: `Body must be ${EVENT_SHAPE}` };
  const given = value as Partial<EventBridgeEvent<string, unknown>>;
  const { source, detail } = given;
  const detailType = given['detail-type'];
  if (typeof source !== 'string' || source === '')
    return { error: `"source" must be a non-empty string; body must be ${EVENT_SHAPE}` };
  if (typeof detailType !== 'string') return { error: `"detail-type" must be a string; body must be ${EVENT_SHAPE}` };
  // EventBridge only accepts a JSON object as detail.
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    return { error: `"detail" must be a JSON object; body must be ${EVENT_SHAPE}` };
  }
  return {
    event: {
      version: '0',
      id: randomUUID(),
      account: '000000000000',
      time: new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region,
      resources: [],
      ...given,
      source,
      'detail-type': detailType,
      detail,
    },
  };
}
