/**
 * The ids a message of the FIFO jobs queue is sent with. Each customer reference is one message
 * group: SQS hands out one customer's jobs in the order they were queued, one batch at a time,
 * while other customers' go on. SQS allows either id 128 characters of a restricted alphabet, and
 * a reference can be a 100 KB email, so both are SHA-256 digests (64 hex characters) of what they
 * stand for, each kind under its own label so that no two kinds can ever share an id.
 */
import { createHash } from 'node:crypto';
import type { CustomerRef, Unit } from '../types';
import type { BackfillTag } from './job-message';

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
 * MessageDeduplicationId of a unit (an event's jobs for one customer reference). A sender's retry of
 * the event yields the same id, so SQS drops the copies it gets within 5 minutes. A backfill's
 * message also names its run and whether it is dry: a resumed run's repeat is dropped, while a new
 * run of the same rows (or a real run right after a dry one) is sent, and the ledger judges it.
 */
export const unitDeduplicationId = (
  { event, customer }: Pick<Unit, 'event' | 'customer'>,
  backfill?: BackfillTag,
): string =>
  digest(
    'unit',
    event.source,
    event.id,
    customer.by,
    ...(customer.by === 'lookup' ? [customer.lookup] : []),
    customer.value,
    ...(backfill ? ['backfill', backfill.run.id, backfill.dryRun] : []),
  );

/**
 * MessageDeduplicationId of the dead-letter copy of one received jobs-queue message: sending it again
 * (the first answer lost) adds no second copy, and a later receive of a redriven message (a new
 * message id) is never mistaken for it.
 */
export const deadLetterDeduplicationId = (messageId: string): string => digest('dead-letter', messageId);
