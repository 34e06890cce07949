/** HelpCrunch's documented example answers (tests/fixtures/helpcrunch/, see its README). */
import { readFileSync } from 'node:fs';

export type DocumentedAnswer =
  | 'customer.json'
  | 'customers-list-200.json'
  | 'error-400.json'
  | 'error-401.json'
  | 'error-404.json'
  | 'error-429.json'
  | 'tag-customer-request.json';

/** A fresh copy of one documented answer. */
export function documented<T = Record<string, unknown>>(file: DocumentedAnswer): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/helpcrunch/${file}`, import.meta.url), 'utf8')) as T;
}
