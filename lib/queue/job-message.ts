/**
 * The body of one jobs-queue message: one Job plus where it came from and how often it has been
 * tried. Bodies outlive deployments (a message may wait 14 days in the dead-letter queue), so
 * they carry a version, are checked field by field when read, and older versions stay readable.
 */
import { BadEventError } from '../errors';
import type { JobOrigin } from '../dispatch/types';
import type { CustomerRef, Job } from '../types';

export interface JobMessage extends Job, JobOrigin {
  v: 2;
  /** Attempts made before this message was (re)sent: 0 when first enqueued, more after a redrive. */
  attempt: number;
}

export function jobMessage(job: Job, origin: JobOrigin, attempt = 0): JobMessage {
  const { rule, customer, removeTags, addTags } = job;
  return { v: 2, eventId: origin.eventId, source: origin.source, rule, customer, removeTags, addTags, attempt };
}

export function jobOf({ rule, customer, removeTags, addTags }: JobMessage): Job {
  return { rule, customer, removeTags, addTags };
}

const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';
const isTagList = (value: unknown): value is string[] => Array.isArray(value) && value.every(isText);

/** A customer reference as written by this version (helpcrunchId, lookup) or version 1 (id). */
function customerRef(value: unknown): CustomerRef | undefined {
  const { by, value: ref, lookup } = (value ?? {}) as { by?: unknown; value?: unknown; lookup?: unknown };
  if (by === 'helpcrunchId' || by === 'id') {
    return typeof ref === 'number' && Number.isSafeInteger(ref) && ref > 0
      ? { by: 'helpcrunchId', value: ref }
      : undefined;
  }
  if (by === 'lookup') return isText(ref) && isText(lookup) ? { by, lookup, value: ref } : undefined;
  return (by === 'email' || by === 'userId') && isText(ref) ? { by, value: ref } : undefined;
}

/** The message in `body`, or BadEventError invalid_message naming the first thing wrong with it. */
export function parseJobMessage(body: string): JobMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw invalid('body is not JSON');
  }
  const message = (value ?? {}) as Record<string, unknown>;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid('body is not a JSON object');
  // The version is named only when it is a plain number: a message body never echoes what it holds.
  if (message.v !== 1 && message.v !== 2)
    throw invalid(`unsupported version ${Number.isSafeInteger(message.v) ? message.v : typeof message.v}`);
  for (const field of ['eventId', 'source', 'rule'] as const) {
    if (!isText(message[field])) throw invalid(`${field} must be a non-empty string`);
  }
  const customer = customerRef(message.customer);
  if (!customer) throw invalid('customer must be {by: helpcrunchId|email|userId|lookup, value}');
  // Version 1 only removed tags, under `tags`.
  const removeTags = message.v === 1 ? message.tags : message.removeTags;
  const addTags = message.v === 1 ? [] : message.addTags;
  if (!isTagList(removeTags) || !isTagList(addTags) || removeTags.length + addTags.length === 0) {
    throw invalid('removeTags and addTags must be lists of tag names, not both empty');
  }
  if (!Number.isSafeInteger(message.attempt) || (message.attempt as number) < 0)
    throw invalid('attempt must be an integer >= 0');
  const { eventId, source, rule, attempt } = message as {
    eventId: string;
    source: string;
    rule: string;
    attempt: number;
  };
  return jobMessage({ rule, customer, removeTags, addTags }, { eventId, source }, attempt);
}

function invalid(reason: string): BadEventError {
  return new BadEventError('invalid_message', `Invalid job message: ${reason}`);
}
