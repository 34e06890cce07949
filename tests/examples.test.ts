/**
 * The shipped examples (examples/<name>/): each is a sender's payload.json, the rules.yml a user
 * pastes, the rule tests that show what it does (run here against the functions bundled with that
 * rules.yml), and a README saying where to point the vendor, which secrets to store and how to try it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ruleTestSuite } from '../local/rule-tests/suite';
import { loadRulesFile } from '../tooling/rules/load';

const examplesDir = join(import.meta.dirname, '..', 'examples');
const examples = readdirSync(examplesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
const FILES = ['payload.json', 'rules.yml', 'rules.test.yml', 'README.md'];

/** The example's README, shell line continuations joined so that each command reads as one line. */
const readme = (name: string) =>
  readFileSync(join(examplesDir, name, 'README.md'), 'utf8').replaceAll(/ \\\n\s*/g, ' ');

describe('examples/', () => {
  it.each(examples)(`%s: has ${FILES.join(', ')}`, (name) => {
    expect(FILES.filter((file) => !existsSync(join(examplesDir, name, file)))).toEqual([]);
  });

  it.each(examples)(
    '%s: its README names the URL to give the vendor, every secret to store, and the command that tries it',
    (name) => {
      const rules = loadRulesFile(join(examplesDir, name, 'rules.yml'));
      const text = readme(name);
      const dir = `examples/${name}`;
      for (const [source, { verify }] of Object.entries(rules.sources)) {
        expect(text).toContain(`https://<api>/webhooks/${source}`);
        expect(text).toContain(
          `npm run invoke -- webhook ${dir}/payload.json --source ${source} --sign --rules ${dir}/rules.yml`,
        );
        if ('secretId' in verify) expect(text).toContain(verify.secretId);
      }
      for (const lookup of Object.values(rules.lookups)) expect(text).toContain(lookup.secretId);
    },
  );

  it('are all in the index, examples/README.md', () => {
    const index = readFileSync(join(examplesDir, 'README.md'), 'utf8');
    for (const name of examples) expect(index).toContain(`[\`${name}\`](${name}/)`);
  });
});

for (const name of examples) {
  const testFile = join(examplesDir, name, 'rules.test.yml');
  if (existsSync(testFile)) ruleTestSuite(testFile, join(examplesDir, name, 'rules.yml'));
}
