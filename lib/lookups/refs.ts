/**
 * What a lookup hands back: references HelpCrunch itself understands. Values selected from a
 * sender's answer become references here, one way for presets and generic lookups alike.
 */
import { customerIdProblem } from '../customer-refs';
import type { DirectCustomerKind } from '../rules/types';
import type { CustomerRef } from '../types';

export type DirectRef = Exclude<CustomerRef, { by: 'lookup' }>;

/** The most customers one lookup may name; beyond that the event is refused rather than half done. */
export const MAX_REFS = 100;

/** One selected value as a reference, or undefined when it cannot name a customer (absent, blank, wrong type). */
function toRef(by: DirectCustomerKind, value: unknown): DirectRef | undefined {
  if (by === 'helpcrunchId') {
    const id = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;
    return typeof id === 'number' && !customerIdProblem(id) ? { by, value: id } : undefined;
  }
  // A number beyond 2^53 was already rounded by JSON.parse and would name someone else.
  if (by === 'userId' && typeof value === 'number' && Number.isSafeInteger(value)) return { by, value: String(value) };
  return typeof value === 'string' && value.trim() !== '' ? { by, value } : undefined;
}

/** A selection (one value or a list of them) as distinct references; values that name no one are skipped. */
export function toRefs(by: DirectCustomerKind, selection: unknown): DirectRef[] {
  const values = Array.isArray(selection) ? selection : [selection];
  const refs = new Map<string, DirectRef>();
  for (const value of values) {
    const ref = toRef(by, value);
    if (ref) refs.set(`${ref.by}:${ref.value}`, ref);
  }
  return [...refs.values()];
}
