/**
 * The ids a message of the FIFO jobs queue is sent with. Each customer reference is one message
 * group: SQS hands out one customer's jobs in the order they were queued, one batch at a time,
 * while other customers' go on. SQS allows either id 128 characters of a restricted alphabet, and
 * a reference can be a 100 KB email, so both are SHA-256 digests (64 hex characters) of what they
 * stand for, each kind under its own label so that no two kinds can ever share an id.
 */
import { createHash } from 'node:crypto';
import type { JobOrigin } from '../dispatch/types';
import type { CustomerRef, Job } from '../types';

const digest = (label: string, ...parts: unknown[]) =>
  createHash('sha256')
    .update(JSON.stringify([label, ...parts]))
    .digest('hex');

/**
 * The reference as a customer: a lookup's names its lookup, and an email is taken without case.
 * Coarser groups cost parallelism only, never order.
 */
function customerKey(customer: CustomerRef): unknown[] {
  if (customer.by === 'email') return [customer.by, customer.value.toLowerCase()];
  if (customer.by === 'lookup') return [customer.by, customer.lookup, customer.value];
  return [customer.by, customer.value];
}

/** MessageGroupId: one group per customer reference. */
export const messageGroupId = (customer: CustomerRef): string => digest('customer', ...customerKey(customer));

/**
 * MessageDeduplicationId of the job at `position` among its event's jobs. A sender's retry of the
 * event yields the same ids, so SQS drops the copies it gets within 5 minutes; the position keeps
 * apart an event's jobs that name the same rule and customer (a batch of payloads, as HubSpot sends).
 */
export const jobDeduplicationId = (origin: JobOrigin, position: number, { rule, customer }: Job): string =>
  digest('job', origin.source, origin.eventId, position, rule, ...customerKey(customer));

/**
 * MessageDeduplicationId of the dead-letter copy of one received jobs-queue message: sending it again
 * (the first answer lost) adds no second copy, and a later receive of a redriven message (a new
 * message id) is never mistaken for it.
 */
export const deadLetterDeduplicationId = (messageId: string): string => digest('dead-letter', messageId);
