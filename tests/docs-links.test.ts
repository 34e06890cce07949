/**
 * The README and docs/ as a set of pages that hold together: every relative link in README.md and
 * docs/*.md resolves to a file or folder of the repository (examples/, lib/, … count too), and every
 * `#anchor`, in the page or in another Markdown file, to one of that file's headings as GitHub
 * slugs it. Links to the web (`https:`, `mailto:`) are not followed. Links and headings inside code
 * (fenced blocks, code spans) are not links.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

/** Each line of the page, or undefined inside a fenced code block (fences included). */
function unfencedLines(markdown: string): (string | undefined)[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      if (marker?.[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = undefined;
      return undefined;
    }
    if (marker) fence = marker;
    return marker ? undefined : line;
  });
}

const CODE_SPAN = /(`+)((?:(?!\1)[\s\S])*?)\1/g;
/** Marks where a code span stood while the rest of a heading is rendered (a private-use character). */
const SPAN_MARK = '\uE000';

/** A heading's text as GitHub renders it: code as its text, links as their text, no emphasis or HTML. */
function renderedText(heading: string): string {
  // Code spans aside first: what they hold is text, never HTML, a link or emphasis.
  const code: string[] = [];
  const text = heading
    .replace(CODE_SPAN, (_, __, inner: string) => `${SPAN_MARK}${code.push(inner.trim()) - 1}${SPAN_MARK}`)
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/(^|[^\p{L}\p{N}])_+([^_\s](?:[^_]*[^_\s])?)_+(?=[^\p{L}\p{N}]|$)/gu, '$1$2');
  return text
    .replace(new RegExp(`${SPAN_MARK}(\\d+)${SPAN_MARK}`, 'g'), (_, index: string) => code[Number(index)]!)
    .trim();
}

/** GitHub's heading ids (github-slugger): lower case, punctuation and symbols dropped, spaces as `-`, repeats numbered. */
function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of unfencedLines(markdown)) {
    const heading = line === undefined ? null : /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (!heading) continue;
    const base = renderedText(heading[1] ?? '')
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    slugs.add(count === 0 ? base : `${base}-${count}`);
  }
  return slugs;
}

/** Inline links and images `[text](target "title")`, and reference definitions `[label]: target`. */
function linkTargets(markdown: string): { line: number; target: string }[] {
  const inline =
    /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*(<[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
  const definition = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/;
  const found: { line: number; target: string }[] = [];
  unfencedLines(markdown).forEach((line, index) => {
    if (line === undefined) return;
    // Code spans blanked: `[a](b)` in code is no link.
    const text = line.replace(CODE_SPAN, (span) => ' '.repeat(span.length));
    for (const match of text.matchAll(inline)) found.push({ line: index + 1, target: match[1]! });
    const defined = definition.exec(text);
    if (defined) found.push({ line: index + 1, target: defined[1]! });
  });
  return found.map(({ line, target }) => ({ line, target: target.replace(/^<(.*)>$/, '$1') }));
}

interface LinkProblem {
  file: string;
  line: number;
  target: string;
  problem: string;
}

/** The problems of every relative link in `files` (paths relative to `repo`). */
function checkLinks(repo: string, files: string[]): { problems: LinkProblem[] } {
  const problems: LinkProblem[] = [];
  const slugCache = new Map<string, Set<string>>();
  const slugsOf = (path: string) => {
    if (!slugCache.has(path)) slugCache.set(path, headingSlugs(readFileSync(path, 'utf8')));
    return slugCache.get(path)!;
  };
  const exists = (path: string) => {
    try {
      statSync(path);
      return true;
    } catch {
      return false;
    }
  };

  for (const file of files) {
    const absolute = join(repo, file);
    for (const { line, target } of linkTargets(readFileSync(absolute, 'utf8'))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue; // the web
      const report = (problem: string) => problems.push({ file, line, target, problem });
      const hash = target.indexOf('#');
      const rawPath = hash === -1 ? target : target.slice(0, hash);
      let path: string;
      let anchor: string | undefined;
      try {
        path = decodeURIComponent(rawPath);
        anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
      } catch {
        report('is not a valid URL');
        continue;
      }
      if (path.startsWith('/')) {
        report('is absolute: GitHub resolves it against the site, not the repository');
        continue;
      }
      const resolved = path === '' ? absolute : resolve(dirname(absolute), path);
      const inRepo = relative(repo, resolved);
      if (inRepo.startsWith('..') || inRepo.split(sep).includes('node_modules')) {
        report('points outside the repository');
        continue;
      }
      const repoPath = inRepo.split(sep).join('/');
      if (!exists(resolved)) {
        report(`${repoPath || '.'} does not exist`);
        continue;
      }
      if (anchor === undefined) continue;
      if (anchor === '') {
        report('has an empty anchor');
        continue;
      }
      if (extname(resolved).toLowerCase() === '.md') {
        if (!slugsOf(resolved).has(anchor)) report(`#${anchor} is no heading of ${repoPath}`);
      } else if (!/^L\d+(-L\d+)?$/.test(anchor)) {
        report(`#${anchor}: only Markdown headings and line anchors (#L12) are checked`);
      }
    }
  }
  return { problems };
}

const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];

describe('README.md and docs/: links', () => {
  it.each(pages)('%s: every relative link and anchor resolves', (page) => {
    const { problems } = checkLinks(root, [page]);
    expect(problems.map(({ line, target, problem }) => `${page}:${line}: (${target}) ${problem}`)).toEqual([]);
  });

  it('the README links every page of docs/', () => {
    const readme = linkTargets(readFileSync(join(root, 'README.md'), 'utf8')).map(({ target }) => target.split('#')[0]);
    const docs = pages.filter((page) => page.startsWith('docs/'));
    expect(docs.filter((page) => !readme.includes(page))).toEqual([]);
  });
});

describe('the link check itself', () => {
  const repo = mkdtempSync(join(tmpdir(), 'docs-links-'));
  afterAll(() => rmSync(repo, { recursive: true, force: true }));
  mkdirSync(join(repo, 'docs'));
  mkdirSync(join(repo, 'examples', 'one'), { recursive: true });
  writeFileSync(join(repo, 'lib.ts'), 'export {};\n');
  writeFileSync(
    join(repo, 'docs', 'guide.md'),
    [
      '# Guide',
      '## `sources.<name>.eventId` and `sources.<name>.occurredAt`',
      '## Tag names (`removeTags`, `addTags`)',
      '## HubSpot: the URL it signs',
      '## Notes',
      '## Notes',
      '## _Why_ not',
      '```md',
      '## Not a heading',
      '[not a link](missing.md)',
      '```',
      'See [the README](../README.md#start) and [`lib.ts`](../lib.ts#L3).',
    ].join('\n'),
  );

  const problemsOf = (text: string) => {
    writeFileSync(join(repo, 'README.md'), `# Start\n\n${text}\n`);
    return checkLinks(repo, ['README.md', 'docs/guide.md']);
  };

  it('accepts files, folders, in-page and cross-page anchors as GitHub slugs them', () => {
    const { problems } = problemsOf(
      [
        '[a](docs/guide.md) [b](examples/one/) [c](#start) [d](<docs/guide.md#notes-1>)',
        '[e](docs/guide.md#sourcesnameeventid-and-sourcesnameoccurredat "title")',
        '[f](docs/guide.md#tag-names-removetags-addtags) [g](docs/guide.md#hubspot-the-url-it-signs)',
        '[h](docs/guide.md#why-not) ![i](lib.ts) `[j](nowhere.md)` [web](https://example.com/x#y)',
        '[ref]: docs/guide.md#guide',
      ].join('\n'),
    );
    expect(problems).toEqual([]);
  });

  it('reports a missing file, a missing anchor, a path outside the repository and an absolute path', () => {
    const { problems } = problemsOf(
      '[a](docs/missing.md) [b](docs/guide.md#nope) [c](#no-such-heading) [d](../outside.md) [e](/docs/guide.md) [f](lib.ts#top)',
    );
    expect(problems.map(({ target, problem }) => `${target}: ${problem}`)).toEqual([
      'docs/missing.md: docs/missing.md does not exist',
      'docs/guide.md#nope: #nope is no heading of docs/guide.md',
      '#no-such-heading: #no-such-heading is no heading of README.md',
      '../outside.md: points outside the repository',
      '/docs/guide.md: is absolute: GitHub resolves it against the site, not the repository',
      'lib.ts#top: #top: only Markdown headings and line anchors (#L12) are checked',
    ]);
  });
});
