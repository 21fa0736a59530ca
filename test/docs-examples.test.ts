import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The client examples in the docs are files under docs/examples, embedded verbatim between
 * `<!-- example: docs/examples/NAME -->` and `<!-- /example -->` (blank lines around the fence allowed), and each is run by a test (which
 * names its path). So a snippet a reader copies is code that ran against the server.
 */

const root = path.resolve(import.meta.dirname, '..');
const EMBED = /<!-- example: (\S+) -->\n+```[a-z]*\n([\s\S]*?)```\n+<!-- \/example -->/g;

function markdownFiles(): string[] {
  const docs = path.join(root, 'docs');
  return [
    path.join(root, 'README.md'),
    ...fs
      .readdirSync(docs)
      .filter((name) => name.endsWith('.md'))
      .map((name) => path.join(docs, name)),
  ];
}

function testFiles(directory = path.join(root, 'test')): string[] {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return testFiles(full);
    return /\.test\.tsx?$/.test(entry.name) ? [full] : [];
  });
}

const embeds = markdownFiles().flatMap((file) =>
  [...fs.readFileSync(file, 'utf8').matchAll(EMBED)].map((match) => ({
    doc: path.relative(root, file),
    example: match[1]!,
    text: match[2]!,
  })),
);
const examples = fs.readdirSync(path.join(root, 'docs/examples')).map((name) => `docs/examples/${name}`);

describe('the docs’ client examples', () => {
  it('finds the embedded examples (the extraction works)', () => {
    expect(embeds.length).toBeGreaterThanOrEqual(1);
    expect(embeds.map((embed) => embed.example)).toContain('docs/examples/fetch-stream.mjs');
  });

  it('embeds each example verbatim', () => {
    for (const embed of embeds) {
      expect(fs.existsSync(path.join(root, embed.example)), `${embed.doc} embeds ${embed.example}`).toBe(true);
      expect(embed.text, `${embed.doc}: the block of ${embed.example}`).toBe(
        fs.readFileSync(path.join(root, embed.example), 'utf8'),
      );
    }
  });

  it('embeds every example somewhere, and a test runs each one', () => {
    const tests = testFiles()
      .filter((file) => !file.endsWith('docs-examples.test.ts'))
      .map((file) => fs.readFileSync(file, 'utf8'));
    for (const example of examples) {
      expect(
        embeds.map((embed) => embed.example),
        `${example} is embedded in a doc`,
      ).toContain(example);
      const name = path.basename(example);
      expect(
        tests.some((text) => text.includes(name)),
        `a test runs ${example}`,
      ).toBe(true);
    }
  });
});
