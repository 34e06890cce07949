/**
 * lib/webhook-auth/registry.ts: every scheme is complete and consistent, so a new one cannot be
 * half-declared. Each scheme's signing is checked against its verifier in
 * local-webhook-signing.test.ts and its shell signing in local-curl-commands.test.ts (both over
 * every registered scheme).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JMESPathTypeError } from '@aws-lambda-powertools/jmespath';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../lib/rules/jmespath';
import { HEADER_NAME_PATTERN } from '../lib/webhook-auth/options';
import { registeredSchemes } from '../lib/webhook-auth/registry';

const root = join(import.meta.dirname, '..');
const schemes = registeredSchemes().map((scheme) => [scheme.name, scheme] as const);
const headings = (file: string) =>
  [...readFileSync(join(root, file), 'utf8').matchAll(/^#+ (.+)$/gm)].map((match) =>
    match[1]!.toLowerCase().replaceAll(' ', '-'),
  );

describe('the scheme registry', () => {
  it('names each scheme once, aliases included', () => {
    const names = schemes.flatMap(([name, scheme]) => [name, ...Object.keys(scheme.aliases ?? {})]);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(schemes)('%s: follows a vendor page (https) or a section of docs/senders.md that exists', (_, scheme) => {
    if (scheme.docs.startsWith('https://')) return;
    const [file, anchor] = scheme.docs.split('#');
    expect(file).toBe('docs/senders.md');
    expect(headings(file!)).toContain(anchor);
  });

  it.each(schemes)('%s: takes only closed options whose required keys exist, aliases fixing real keys', (_, scheme) => {
    const keys = Object.keys(scheme.options.properties);
    expect(scheme.options.additionalProperties).toBe(false);
    for (const key of scheme.options.required ?? []) expect(keys).toContain(key);
    for (const fixed of Object.values(scheme.aliases ?? {}))
      for (const key of Object.keys(fixed)) expect(keys).toContain(key);
  });

  it.each(schemes)('%s: its event selectors are header names or JMESPath that parses', (_, scheme) => {
    for (const selector of Object.values(scheme.event)) {
      if ('header' in selector) {
        for (const header of [selector.header].flat()) expect(header).toMatch(new RegExp(HEADER_NAME_PATTERN));
        continue;
      }
      try {
        evaluate(selector.field, {});
      } catch (error) {
        expect(error).toBeInstanceOf(JMESPathTypeError);
      }
    }
  });
});
