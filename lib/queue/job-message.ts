/**
 * The body of one jobs-queue message: one Job plus where it came from and how often it has been
 * tried. Bodies outlive deployments (a message may wait 14 days in the dead-letter queue), so
 * they carry a version and are checked field by field when read.
 */
import { BadEventError } from '../errors';
import type { CustomerRef, Job } from '../types';

/** The event a job was matched from: its id (webhook-id, request id or EventBridge id) and source. */
export interface JobOrigin {
  eventId: string;
  source: string;
}

export interface JobMessage extends Job, JobOrigin {
  v: 1;
  /** Attempts made before this message was (re)sent: 0 when first enqueued, more after a redrive. */
  attempt: number;
}

export function jobMessage(job: Job, origin: JobOrigin, attempt = 0): JobMessage {
  return { v: 1, eventId: origin.eventId, source: origin.source, rule: job.rule, customer: job.customer, tags: job.tags, attempt };
}

export function jobOf({ rule, customer, tags }: JobMessage): Job {
  return { rule, customer, tags };
}

const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';

function isCustomerRef(value: unknown): value is CustomerRef {
  const { by, value: ref } = (value ?? {}) as { by?: unknown; value?: unknown };
  if (by === 'id') return typeof ref === 'number' && Number.isSafeInteger(ref) && ref > 0;
  return (by === 'email' || by === 'userId') && isText(ref);
}

/** The message in `body`, or BadEventError invalid_message naming the first thing wrong with it. */
export function parseJobMessage(body: string): JobMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw invalid('body is not JSON');
  }
  const message = (value ?? {}) as Partial<Record<keyof JobMessage, unknown>>;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid('body is not a JSON object');
  // The version is named only when it is a plain number: a message body never echoes what it holds.
  if (message.v !== 1) throw invalid(`unsupported version ${Number.isSafeInteger(message.v) ? message.v : typeof message.v}`);
  for (const field of ['eventId', 'source', 'rule'] as const) {
    if (!isText(message[field])) throw invalid(`${field} must be a non-empty string`);
  }
  if (!isCustomerRef(message.customer)) throw invalid('customer must be {by: id|email|userId, value}');
  if (!Array.isArray(message.tags) || message.tags.length === 0 || !message.tags.every(isText)) {
    throw invalid('tags must be a non-empty list of tag names');
  }
  if (!Number.isSafeInteger(message.attempt) || (message.attempt as number) < 0) throw invalid('attempt must be an integer >= 0');
  const { eventId, source, rule, customer, tags, attempt } = message as JobMessage;
  return jobMessage({ rule, customer, tags }, { eventId, source }, attempt);
}

function invalid(reason: string): BadEventError {
  return new BadEventError('invalid_message', `Invalid job message: ${reason}`);
}
