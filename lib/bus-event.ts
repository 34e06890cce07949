/**
 * An EventBridge event as the service takes it. EventBridge only delivers objects whose `detail`
 * is a JSON object (PutEvents refuses anything else), so any other input was never a real event:
 * it is refused as a bad event (not retryable), with a message that describes it but never echoes it.
 */
import { BadEventError } from './errors';
import type { BusEvent } from './untag-service';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const describe = (value: unknown) =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;

export function parseBusEvent(event: unknown): BusEvent {
  if (!isObject(event))
    throw new BadEventError('invalid_event', `An EventBridge event must be an object, not ${describe(event)}`);
  const { id, source, 'detail-type': detailType, detail } = event;
  if (typeof id !== 'string' || typeof source !== 'string' || typeof detailType !== 'string') {
    throw new BadEventError('invalid_event', 'An EventBridge event needs string id, source and detail-type');
  }
  if (!isObject(detail))
    throw new BadEventError(
      'invalid_event',
      `An EventBridge event's detail must be a JSON object, not ${describe(detail)}`,
    );
  return { id, source, detailType, detail };
}
