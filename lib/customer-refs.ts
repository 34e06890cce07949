/**
 * What a customer reference may be, checked where a reference is made (matching a payload, reading a
 * queue message) so that a request with one bad element is refused before anything is written.
 */
import type { CustomerRef } from './types';

/**
 * Longer text is no email (RFC 5321 allows 254 characters), user id or sender's id, and would make
 * a URL or search servers refuse.
 */
export const MAX_REFERENCE_LENGTH = 512;

/** Why `value` cannot be a text reference (an email, a userId, a lookup's id), or undefined when it can. */
export function textReferenceProblem(value: string, by: CustomerRef['by']): string | undefined {
  if (value.trim() === '') return 'is missing';
  if (value.length > MAX_REFERENCE_LENGTH) return `is longer than ${MAX_REFERENCE_LENGTH} characters`;
  // A lone surrogate cannot be sent as UTF-8: it would be searched for (or looked up) mangled.
  if (!value.isWellFormed()) return 'is not valid Unicode';
  // The id becomes one path segment or query value of the lookup's URL: dot segments would move it.
  if (by === 'lookup' && (value === '.' || value === '..')) return 'cannot be "." or ".."';
  return undefined;
}

/** Why `value` cannot be a HelpCrunch customer id, or undefined when it can. */
export const customerIdProblem = (value: number): string | undefined =>
  Number.isSafeInteger(value) && value > 0 ? undefined : 'must be a positive HelpCrunch customer id below 2^53';
