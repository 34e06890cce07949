/**
 * Seed customers for the sandbox. They live in demo-customers.json next to this file so
 * users can edit them; the file is checked on load so a typo fails loudly, naming the entry.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SandboxCustomer, SandboxTag } from './customer-store';

export const DEMO_CUSTOMERS_PATH = fileURLToPath(new URL('./demo-customers.json', import.meta.url));

function isNullableString(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

function isTag(value: unknown): value is SandboxTag {
  if (typeof value !== 'object' || value === null) return false;
  const { name, color } = value as Record<string, unknown>;
  return typeof name === 'string' && name !== '' && typeof color === 'string';
}

/** Checks a parsed JSON value is a list of customers with unique positive integer ids. */
export function parseSandboxCustomers(value: unknown, source: string): SandboxCustomer[] {
  if (!Array.isArray(value)) throw new Error(`${source}: expected an array of customers`);
  const seen = new Set<number>();
  return (value as unknown[]).map((entry, index) => {
    const fail = (why: string): never => {
      throw new Error(`${source}: customer #${index} ${why}`);
    };
    if (typeof entry !== 'object' || entry === null) return fail('is not an object');
    const { id, email, userId, name, tags } = entry as Record<string, unknown>;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) return fail('needs a positive integer id');
    if (seen.has(id)) return fail(`repeats id ${id}`);
    seen.add(id);
    if (!isNullableString(email) || !isNullableString(userId) || !isNullableString(name)) {
      return fail('needs email, userId and name as strings or null');
    }
    if (!Array.isArray(tags) || !tags.every(isTag)) {
      return fail('needs tags as [{ "name": non-empty string, "color": string }]');
    }
    return { id, email, userId, name, tags: tags.map(({ name, color }) => ({ name, color })) };
  });
}

/** Reads and checks the seed file (the bundled demo customers by default). */
export function loadDemoCustomers(path: string = DEMO_CUSTOMERS_PATH): SandboxCustomer[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: cannot read demo customers (${(error as Error).message})`);
  }
  return parseSandboxCustomers(parsed, path);
}
