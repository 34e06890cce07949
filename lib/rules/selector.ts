/**
 * The one reader of a source's selectors (eventType, eventId, occurredAt): EventSelector, below. It reads; what a value means (a type to match, an id, a time to parse) is up to
 * its caller.
 */
import { evaluate } from './jmespath';

/**
 * Where a webhook carries a value: a request header (any case; a scheme's default may list
 * alternatives, the first present wins), or a JMESPath into each payload. lib/rules/selector.ts reads it.
 */
export type EventSelector = { header: string | readonly string[] } | { field: string };

/**
 * The selected value: a header's value (`headers` keyed by lower-cased name; of alternatives, the
 * first present), or what the JMESPath yields on the payload; null when there is none or the
 * expression fails on this payload's data.
 */
export function readSelector(selector: EventSelector, payload: unknown, headers: Record<string, string>): unknown {
  if ('header' in selector) {
    // hasOwn: a header named e.g. "constructor" must not resolve to an Object.prototype member.
    const name = [selector.header]
      .flat()
      .map((header) => header.toLowerCase())
      .find((header) => Object.hasOwn(headers, header));
    return name === undefined ? null : headers[name]!;
  }
  try {
    return evaluate(selector.field, payload) ?? null;
  } catch {
    return null;
  }
}

/** For messages: "header webhook-id", "header webhook-id or svix-id", "field created". */
export function describeSelector(selector: EventSelector): string {
  if ('field' in selector) return `field ${selector.field}`;
  return `header ${[selector.header].flat().join(' or ')}`;
}
