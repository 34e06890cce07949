/** Jobs grouped into units (one event's jobs for one customer reference), and the keys that name them. */
import { digest } from '../digest';
import type { CustomerRef, EventRef, Job, Unit } from '../types';

/** A customer reference as one string; its parts kept apart so none can run into another. */
export function customerRefKey(ref: CustomerRef): string {
  return ref.by === 'lookup' ? `lookup\u0000${ref.lookup}\u0000${ref.value}` : `${ref.by}\u0000${ref.value}`;
}

/**
 * The unit as the ledger's decisions and attempt counts name it: its event (source and id) and
 * customer reference, digested. The same unit deciding a tag again is a duplicate; another unit of
 * the same event (a rule naming the customer another way) is not.
 */
export const unitDigest = ({ event, customer }: Pick<Unit, 'event' | 'customer'>): string =>
  digest(event.source, event.id, customerRefKey(customer));

/** The event's jobs, one unit per customer reference, in the order the rules matched them. */
export function unitsOf(event: EventRef, jobs: Job[]): Unit[] {
  const units = new Map<string, Unit>();
  for (const job of jobs) {
    const key = customerRefKey(job.customer);
    const unit = units.get(key) ?? { event, customer: job.customer, jobs: [] };
    unit.jobs.push(job);
    units.set(key, unit);
  }
  return [...units.values()];
}

/** Oldest event first (stable): a batch naming one customer twice is applied in the order its events happened. */
export const byOccurrence = (units: Unit[]): Unit[] =>
  units
    .map((unit, index) => ({ unit, index }))
    .sort((a, b) => a.unit.event.occurredAt - b.unit.event.occurredAt || a.index - b.index)
    .map(({ unit }) => unit);

/** The ISO 8601 time of an event, as outcomes and log lines show it. */
export const shownEvent = ({ source, id, occurredAt }: EventRef) => ({
  source,
  id,
  occurredAt: new Date(occurredAt).toISOString(),
});
