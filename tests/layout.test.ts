/**
 * The layout rule: lib/ is what ships to Lambda, so nothing in it (or in functions/) reaches
 * outside it; only the bundled rules file is read from the project root.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.(ts|cjs|mjs|js)$/.test(name))
    .map((name) => join(dir, name));
}

/** Every relative module specifier of a file: static, dynamic and require. */
function relativeImports(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const pattern = /(?:from\s+|import\s*\(\s*|require\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g;
  return [...text.matchAll(pattern)].map((match) => match[1]!);
}

const allowedOutside = new Set(['rules.yml']);

describe('layout', () => {
  it.each(['lib', 'functions'])('%s/ imports only lib/ (and the bundled rules.yml)', (dir) => {
    const strays = sourceFiles(dir).flatMap((file) =>
      relativeImports(file)
        .map((spec) => relative(root, resolve(root, dirname(file), spec)))
        .filter((target) => !target.startsWith(`lib/`) && !allowedOutside.has(target))
        .map((target) => `${file} -> ${target}`),
    );
    expect(strays).toEqual([]);
  });

  it('the check sees imports at all', () => {
    expect(relativeImports('functions/webhook.ts')).toContain('../lib/errors');
  });
});
