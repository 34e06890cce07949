/**
 * An EventBridge event as the service takes it. EventBridge only delivers objects whose `detail`
 * is a JSON object (PutEvents refuses anything else), so any other input was never a real event:
 * it is refused as a bad event (not retryable), with a message that describes it but never echoes it.
 */
import { BadEventError } from '../errors';
import { isRecord, jsonKind } from '../json';

/** An EventBridge event as the service reads it: its id, source, detail-type and detail (the payload rules match). */
export interface BusEvent {
  id: string;
  source: string;
  detailType: string;
  /** When the event occurred (RFC 3339), as EventBridge gives it. */
  time: string;
  detail: unknown;
}

export function parseBusEvent(event: unknown): BusEvent {
  if (!isRecord(event))
    throw new BadEventError('invalid_event', `An EventBridge event must be an object, not ${jsonKind(event)}`);
  const { id, source, 'detail-type': detailType, time, detail } = event;
  if (
    typeof id !== 'string' ||
    typeof source !== 'string' ||
    typeof detailType !== 'string' ||
    typeof time !== 'string'
  ) {
    throw new BadEventError('invalid_event', 'An EventBridge event needs string id, source, detail-type and time');
  }
  if (!isRecord(detail))
    throw new BadEventError(
      'invalid_event',
      `An EventBridge event's detail must be a JSON object, not ${jsonKind(detail)}`,
    );
  return { id, source, detailType, time, detail };
}
