// PLACEHOLDER (the registry branch brings the real one): reads a `{header}` or `{field}` selector.
import { evaluate } from './jmespath';

export type Selector = { header: string } | { field: string };

export function readSelector(selector: Selector, payload: unknown, headers: Record<string, string>): unknown {
  if ('header' in selector) {
    const name = selector.header.toLowerCase();
    return Object.hasOwn(headers, name) ? headers[name] : undefined;
  }
  try {
    return evaluate(selector.field, payload) ?? undefined;
  } catch {
    return undefined;
  }
}

export const describeSelector = (selector: Selector): string =>
  'header' in selector ? `header ${selector.header}` : `field ${selector.field}`;
