/** docs/senders.md against the scheme registry: every scheme has a row, and its row names the scheme's defaults. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventSelector } from '../lib/rules/types';
import { registeredSchemes } from '../lib/webhook-auth/registry';

const text = readFileSync(join(import.meta.dirname, '..', 'docs', 'senders.md'), 'utf8');
/** The table's rows, as their cells. */
const rows = text
  .split('\n')
  .filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line))
  .map((line) =>
    line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim()),
  );
const column = (name: string) => rows[0]!.indexOf(name);

/** How the table writes a selector: header `X` (or `Y`), field `x`. */
function described(selector: EventSelector): string {
  if ('field' in selector) return `field \`${selector.field}\``;
  return `header ${[selector.header]
    .flat()
    .map((name) => `\`${name}\``)
    .join(' or ')}`;
}

const cases = registeredSchemes().flatMap((scheme) =>
  [scheme.name, ...Object.keys(scheme.aliases ?? {})].map((name) => [name, scheme] as const),
);

describe('docs/senders.md', () => {
  it('has the columns the checks read', () => {
    for (const name of ['`scheme`', 'tolerance', 'event type', 'event id', 'occurred at'])
      expect(column(name)).toBeGreaterThanOrEqual(0);
  });

  it.each(cases)('%s: has a row naming its tolerance and event fields', (name, scheme) => {
    const own = rows.filter((cells) => cells[column('`scheme`')]!.split(', ').includes(`\`${name}\``));
    expect(own.length, `no row for scheme ${name}`).toBeGreaterThan(0);
    const tolerance = (scheme.options.properties.toleranceSeconds as { default?: number } | undefined)?.default;
    const { type, id, occurredAt } = scheme.event;
    for (const cells of own) {
      expect(cells[column('tolerance')]).toBe(tolerance === undefined ? '—' : `${tolerance} s`);
      if (type) expect(cells[column('event type')]).toContain(described(type));
      if (id) expect(cells[column('event id')]).toContain(described(id));
      if (occurredAt) expect(cells[column('occurred at')]).toContain(described(occurredAt));
    }
  });
});
