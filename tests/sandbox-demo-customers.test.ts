import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_CUSTOMERS_PATH, loadDemoCustomers, parseSandboxCustomers } from '../local/sandbox/demo-customers';

const dir = mkdtempSync(join(tmpdir(), 'sandbox-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeSeed(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('loadDemoCustomers', () => {
  it('loads the bundled seed: ids from 1001, example.com emails, u-* userIds and the demo tags', () => {
    const customers = loadDemoCustomers();
    expect(DEMO_CUSTOMERS_PATH).toMatch(/local[\\/]sandbox[\\/]demo-customers\.json$/);
    expect(customers.map((c) => c.id)).toEqual([1001, 1002, 1003, 1004, 1005, 1006]);
    expect(customers[0]).toEqual({
      id: 1001,
      email: 'ada@example.com',
      userId: 'u-ada',
      name: 'Ada Lovelace',
      tags: [
        { name: 'Lead', color: '#2196f3' },
        { name: 'Trial user', color: '#ff9800' },
      ],
    });
    const tagNames = new Set(customers.flatMap((c) => c.tags.map((t) => t.name)));
    expect([...tagNames].sort()).toEqual(['Lead', 'Subscriber', 'Trial user', 'VIP']);
    // Lookups by email and by userId both need customers where the other is missing.
    expect(customers.some((c) => c.email === null)).toBe(true);
    expect(customers.some((c) => c.userId === null)).toBe(true);
  });

  it('loads a user-edited file', () => {
    const path = writeSeed('one.json', '[{"id":7,"email":null,"userId":"u-7","name":"Seven","tags":[]}]');
    expect(loadDemoCustomers(path)).toEqual([{ id: 7, email: null, userId: 'u-7', name: 'Seven', tags: [] }]);
  });

  it('names the file when it cannot be read or parsed', () => {
    const missing = join(dir, 'missing.json');
    expect(() => loadDemoCustomers(missing)).toThrow(`${missing}: cannot read demo customers`);
    const broken = writeSeed('broken.json', '[{"id":');
    expect(() => loadDemoCustomers(broken)).toThrow(`${broken}: cannot read demo customers`);
  });

  it.each([
    ['not an array', { id: 1 }, 'seed: expected an array of customers'],
    ['a non-object entry', [5], 'seed: customer #0 is not an object'],
    [
      'a string id',
      [{ id: '1', email: null, userId: null, name: null, tags: [] }],
      'seed: customer #0 needs a positive integer id',
    ],
    [
      'a zero id',
      [{ id: 0, email: null, userId: null, name: null, tags: [] }],
      'seed: customer #0 needs a positive integer id',
    ],
    [
      'a repeated id',
      [
        { id: 1, email: null, userId: null, name: null, tags: [] },
        { id: 1, email: null, userId: null, name: null, tags: [] },
      ],
      'seed: customer #1 repeats id 1',
    ],
    [
      'a numeric email',
      [{ id: 1, email: 3, userId: null, name: null, tags: [] }],
      'seed: customer #0 needs email, userId and name',
    ],
    [
      'a missing name',
      [{ id: 1, email: null, userId: null, tags: [] }],
      'seed: customer #0 needs email, userId and name',
    ],
    [
      'tags as strings',
      [{ id: 1, email: null, userId: null, name: null, tags: ['VIP'] }],
      'seed: customer #0 needs tags',
    ],
    [
      'a tag without color',
      [{ id: 1, email: null, userId: null, name: null, tags: [{ name: 'VIP' }] }],
      'seed: customer #0 needs tags',
    ],
  ])('rejects %s', (_case, value, message) => {
    expect(() => parseSandboxCustomers(value, 'seed')).toThrow(message);
  });

  it('keeps only the known fields', () => {
    const [customer] = parseSandboxCustomers(
      [{ id: 1, email: null, userId: null, name: null, extra: true, tags: [{ name: 'A', color: '#fff', x: 1 }] }],
      'seed',
    );
    expect(customer).toEqual({ id: 1, email: null, userId: null, name: null, tags: [{ name: 'A', color: '#fff' }] });
  });
});
