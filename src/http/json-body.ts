import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { AppError, type ValidationIssue } from '../errors.js';

/**
 * What a text value may hold, the same on both backends. PostgreSQL cannot store U+0000 in text
 * (it answered 500) and SQLite stores it; a lone surrogate has no UTF-8 form, so either database
 * would store U+FFFD instead; `1e999` parses to Infinity, which JSON.stringify turns into `null`.
 * Each is refused with a 422 naming the field, before anything is stored.
 */
export function textProblem(value: string): Omit<ValidationIssue, 'loc'> | null {
  if (value.includes('\u0000')) return NUL_ISSUE;
  if (!value.isWellFormed()) return SURROGATE_ISSUE;
  return null;
}

const NUL_ISSUE = { msg: 'String should not contain the NUL character (U+0000)', type: 'string_nul' };
const SURROGATE_ISSUE = {
  msg: 'Input should be a valid Unicode string: it contains a lone surrogate',
  type: 'string_unicode',
};
const NON_FINITE_ISSUE = { msg: 'Input should be a finite number', type: 'finite_number' };

/**
 * How deeply a JSON body may nest: far more than any real configuration, far less than the depth
 * (some thousands) at which the recursive code after JSON.parse — ajv, JSON.stringify — overflows
 * the stack and would answer 500.
 */
export const MAX_JSON_DEPTH = 200;

const TOO_DEEP_ISSUE = { msg: `JSON should nest at most ${MAX_JSON_DEPTH} levels deep`, type: 'json_invalid' };
const NOT_UTF8_ISSUE = { msg: 'JSON decode error: the body is not valid UTF-8', type: 'json_invalid' };

/** A value still to be checked, with where it is: its key and its parent's node. */
interface Pending {
  value: unknown;
  key: string | number | undefined;
  parent: Pending | undefined;
  depth: number;
}

/**
 * The first problem in a parsed JSON value, in document order — too deep, or a key, string or
 * number that `textProblem` or finiteness refuses — with its location, or null. One iterative
 * pass over every value, so any depth and any size is linear and safe for the stack; a location
 * is only built for the problem found.
 */
export function findJsonProblem(value: unknown, root: (string | number)[] = ['body']): ValidationIssue | null {
  const pending: Pending[] = [{ value, key: undefined, parent: undefined, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const problem = valueProblem(next.value);
    if (problem) return { loc: locationOf(next, root), ...problem };
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth >= MAX_JSON_DEPTH) return { loc: root, ...TOO_DEEP_ISSUE };
    const isArray = Array.isArray(next.value);
    const entries = Object.entries(next.value);
    // Pushed last to first, so the stack yields them in document order.
    for (let index = entries.length - 1; index >= 0; index--) {
      const [key, child] = entries[index]!;
      const node = { value: child, key: isArray ? index : key, parent: next, depth: next.depth + 1 };
      const keyProblem = isArray ? null : textProblem(key);
      if (keyProblem) return { loc: locationOf(node, root), ...keyProblem };
      pending.push(node);
    }
  }
  return null;
}

function locationOf(node: Pending, root: (string | number)[]): (string | number)[] {
  const keys: (string | number)[] = [];
  for (let at: Pending | undefined = node; at?.key !== undefined; at = at.parent) keys.push(at.key);
  return [...root, ...keys.reverse()];
}

function valueProblem(value: unknown): Omit<ValidationIssue, 'loc'> | null {
  if (typeof value === 'string') return textProblem(value);
  if (typeof value === 'number' && !Number.isFinite(value)) return NON_FINITE_ISSUE;
  return null;
}

/**
 * JSON bodies are read as bytes, so text that is not UTF-8 is refused instead of silently turned
 * into U+FFFD; then parsed by Fastify's own parser (which refuses `__proto__` and
 * `constructor.prototype`), then checked by `findJsonProblem`.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) return done(invalid({ loc: ['body'], ...NOT_UTF8_ISSUE }), undefined);
    parse(request, bytes.toString('utf8'), (error, parsed) => {
      if (error) return done(error, undefined);
      const problem = findJsonProblem(parsed);
      if (problem) return done(invalid(problem), undefined);
      done(null, parsed);
    });
  });
}

function invalid(issue: ValidationIssue): AppError {
  return new AppError('validation_error', { issues: [issue] });
}
