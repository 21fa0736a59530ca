import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/errors.js';

/**
 * docs/errors.md is the human-readable face of ERROR_CODES: every code, with its HTTP status, in
 * the "Error codes" table, and every 422 `type` the source can emit in the "Validation error
 * types" table. These tests fail when either drifts.
 */

const root = path.resolve(import.meta.dirname, '..');
const doc = fs.readFileSync(path.join(root, 'docs/errors.md'), 'utf8');

/** The lines of the `## <title>` section, up to the next `## ` heading. */
function section(title: string): string[] {
  const lines = doc.split('\n');
  const start = lines.findIndex((line) => line.trim() === `## ${title}`);
  if (start === -1) throw new Error(`docs/errors.md has no "## ${title}" section`);
  const end = lines.findIndex((line, index) => index > start && line.startsWith('## '));
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

/** The body rows of the first table in a section, as trimmed cells (header and separator dropped). */
function tableRows(title: string): string[][] {
  const rows = section(title).filter((line) => line.startsWith('|'));
  expect(rows.length, `a table in "## ${title}"`).toBeGreaterThan(2);
  expect(rows[1], `the separator row of "## ${title}"`).toMatch(/^\|(\s*:?-+:?\s*\|)+$/);
  return rows.slice(2).map((row) =>
    row
      .slice(1, row.endsWith('|') ? -1 : undefined)
      .split('|')
      .map((cell) => cell.trim()),
  );
}

/** `code` → status as the doc states it; fails on a row it cannot read or a code listed twice. */
function documentedCodes(): Map<string, number> {
  const documented = new Map<string, number>();
  for (const cells of tableRows('Error codes')) {
    expect(cells, `row ${cells.join(' | ')}`).toHaveLength(4);
    const [code, status, when, action] = cells as [string, string, string, string];
    const name = /^`([a-z0-9_]+)`$/.exec(code)?.[1];
    expect(name, `the code cell "${code}" is one code in backticks`).toBeDefined();
    expect(status, `the status of ${code}`).toMatch(/^\d{3}$/);
    expect(when.length, `when ${code} happens`).toBeGreaterThan(10);
    expect(action.length, `what to do on ${code}`).toBeGreaterThan(10);
    expect(documented.has(name!), `${code} is listed once`).toBe(false);
    documented.set(name!, Number(status));
  }
  return documented;
}

describe('docs/errors.md and ERROR_CODES', () => {
  it('documents every code in ERROR_CODES', () => {
    const documented = documentedCodes();
    const missing = Object.keys(ERROR_CODES).filter((code) => !documented.has(code));
    expect(missing).toEqual([]);
  });

  it('lists no code that ERROR_CODES does not have', () => {
    const unknown = [...documentedCodes().keys()].filter((code) => !Object.hasOwn(ERROR_CODES, code));
    expect(unknown).toEqual([]);
  });

  it('gives each code the status ERROR_CODES gives it', () => {
    const documented = documentedCodes();
    const differing = Object.entries(ERROR_CODES)
      .filter(([code, { status }]) => documented.has(code) && documented.get(code) !== status)
      .map(([code, { status }]) => `${code}: registry ${status}, doc ${documented.get(code)}`);
    expect(differing).toEqual([]);
  });

  it('describes both body shapes and the x-request-id header', () => {
    const shapes = section('Body shapes').join('\n');
    const examples = [...shapes.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => JSON.parse(match[1]!));
    expect(examples).toHaveLength(2);
    const [validation, other] = examples;
    expect(Object.keys(validation).sort()).toEqual(['code', 'detail', 'request_id']);
    expect(validation.code).toBe('validation_error');
    expect(Object.keys(validation.detail[0]).sort()).toEqual(['loc', 'msg', 'type']);
    expect(Object.keys(other).sort()).toEqual(['code', 'detail', 'request_id']);
    expect(typeof other.detail).toBe('string');
    expect(Object.hasOwn(ERROR_CODES, other.code)).toBe(true);
    expect(other.detail).toBe(ERROR_CODES[other.code as keyof typeof ERROR_CODES].message);
    expect(section('The `x-request-id` header').join('\n')).toContain('request_id');
  });
});

describe('docs/errors.md and the 422 types the source emits', () => {
  function sourceFiles(directory: string): string[] {
    return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) return sourceFiles(full);
      return entry.name.endsWith('.ts') ? [full] : [];
    });
  }

  /** Every `type` a validation issue can get, read from the source. */
  function emittedTypes(): Set<string> {
    const types = new Set<string>();
    // The ajv → FastAPI mapping: every string `type:` in it is an issue type.
    const validation = fs.readFileSync(path.join(root, 'src/http/validation.ts'), 'utf8');
    for (const match of validation.matchAll(/\btype: '([a-z_]+)'/g)) types.add(match[1]!);
    for (const file of sourceFiles(path.join(root, 'src'))) {
      const text = fs.readFileSync(file, 'utf8');
      // Issues written out — { loc: [...], msg: '...', type: '...' } — or as templates without
      // their loc: { msg: '...', type: '...' }.
      for (const match of text.matchAll(/\bmsg: [^\n]*?,\s*type: '([a-z_]+)'/g)) types.add(match[1]!);
      // validationError(loc, msg, type = 'value_error').
      const calls = [...text.matchAll(/\bvalidationError\(\s*\[/g)].length;
      const read = [
        ...text.matchAll(/\bvalidationError\(\s*\[[^\]]*\],\s*(?:'[^']*'|`[^`]*`)\s*(?:,\s*'([a-z_]+)')?\s*,?\s*\)/g),
      ];
      expect(read.length, `every validationError(...) call in ${path.relative(root, file)} can be read`).toBe(calls);
      for (const match of read) types.add(match[1] ?? 'value_error');
    }
    return types;
  }

  function documentedTypes(): Set<string> {
    const documented = new Set<string>();
    for (const cells of tableRows('Validation error types')) {
      const name = /^`([a-z_]+)`$/.exec(cells[0] ?? '')?.[1];
      expect(name, `the type cell "${cells[0]}" is one type in backticks`).toBeDefined();
      expect(documented.has(name!), `${name} is listed once`).toBe(false);
      documented.add(name!);
    }
    return documented;
  }

  it('finds the types it should (the extraction works)', () => {
    const emitted = emittedTypes();
    for (const type of [
      'missing',
      'json_invalid',
      'uuid_parsing',
      'string_too_long',
      'template_not_found',
      'value_error',
    ]) {
      expect(emitted.has(type), type).toBe(true);
    }
  });

  it('documents every type the source emits, and no other', () => {
    const emitted = emittedTypes();
    const documented = documentedTypes();
    expect([...emitted].filter((type) => !documented.has(type)).sort(), 'emitted but not documented').toEqual([]);
    expect([...documented].filter((type) => !emitted.has(type)).sort(), 'documented but never emitted').toEqual([]);
  });
});
