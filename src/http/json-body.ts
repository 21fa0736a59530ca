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

/** An object or array being walked: where it is, and how far through its entries the walk is. */
interface Frame {
  container: object;
  /** The object's own keys; null for an array, walked by index. */
  keys: string[] | null;
  next: number;
  /** Its key in its parent; undefined for the root. */
  key: string | number | undefined;
  parent: Frame | undefined;
  depth: number;
}

/**
 * The first problem in a parsed JSON value, in document order — too deep, or a key, string or
 * number that `textProblem` or finiteness refuses — with its location, or null. One iterative
 * pass with a frame per object or array (none per value), so any depth and any size is linear,
 * safe for the stack and light on memory; a location is only built for the problem found.
 */
export function findJsonProblem(value: unknown, root: (string | number)[] = ['body']): ValidationIssue | null {
  const rootProblem = valueProblem(value);
  if (rootProblem) return { loc: root, ...rootProblem };
  if (typeof value !== 'object' || value === null) return null;
  let frame: Frame | undefined = frameOf(value, undefined, undefined);
  while (frame !== undefined) {
    const length: number = frame.keys === null ? (frame.container as unknown[]).length : frame.keys.length;
    if (frame.next === length) {
      frame = frame.parent;
      continue;
    }
    const key: string | number = frame.keys === null ? frame.next : frame.keys[frame.next]!;
    frame.next += 1;
    const problem =
      (typeof key === 'string' ? textProblem(key) : null) ??
      valueProblem((frame.container as Record<string | number, unknown>)[key]);
    if (problem) return { loc: locationOf(frame, key, root), ...problem };
    const child = (frame.container as Record<string | number, unknown>)[key];
    if (typeof child !== 'object' || child === null) continue;
    if (frame.depth + 1 >= MAX_JSON_DEPTH) return { loc: root, ...TOO_DEEP_ISSUE };
    frame = frameOf(child, key, frame);
  }
  return null;
}

function frameOf(container: object, key: string | number | undefined, parent: Frame | undefined): Frame {
  const keys = Array.isArray(container) ? null : Object.keys(container);
  return { container, keys, next: 0, key, parent, depth: parent === undefined ? 0 : parent.depth + 1 };
}

function locationOf(frame: Frame, key: string | number, root: (string | number)[]): (string | number)[] {
  const keys: (string | number)[] = [key];
  for (let at: Frame | undefined = frame; at?.key !== undefined; at = at.parent) keys.push(at.key);
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
