import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Static checks over the server's source (reliability.md T24): nothing evaluates text as code or
 * starts processes. Outbound HTTP (T20) has its own test, test/unit/single-outbound-client.test.ts,
 * which allows it in src/outbound/ only.
 */
const SOURCE = path.resolve(import.meta.dirname, '../../src');

function sourceFiles(directory: string): string[] {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return entry.name === 'testing' ? [] : sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

const FORBIDDEN: [string, RegExp][] = [
  ['eval', /\beval\s*\(/],
  ['new Function', /\bnew\s+Function\s*\(/],
  ['vm module', /from\s+['"](node:)?vm['"]/],
  ['child processes', /from\s+['"](node:)?child_process['"]/],
];

describe('source code', () => {
  const files = sourceFiles(SOURCE);

  it('has files to check', () => {
    expect(files.length).toBeGreaterThan(40);
  });

  it.each(FORBIDDEN)('contains no %s', (_name, pattern) => {
    const offenders = files.filter((file) =>
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .some((line) => !line.trim().startsWith('//') && !line.trim().startsWith('*') && pattern.test(line)),
    );
    expect(offenders.map((file) => path.relative(SOURCE, file))).toEqual([]);
  });
});
