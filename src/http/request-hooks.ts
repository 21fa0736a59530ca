import type { FastifyInstance, FastifyReply } from 'fastify';
import type { LogLevel } from '../config.js';
import { AppError, type ValidationIssue } from '../errors.js';
import { UUID_PATTERN } from '../ids.js';
import { textProblem } from './json-body.js';

/**
 * The hooks every request passes through, apart from authentication (auth.ts). They are
 * callback-style on purpose: an async hook costs a promise and a microtask on every request.
 */
export function registerRequestHooks(
  app: FastifyInstance,
  options: { logLevel: LogLevel; isShuttingDown: () => boolean },
): void {
  app.addHook('onRequest', (request, reply, done) => {
    setSecurityHeaders(request.id, reply);
    if (!options.isShuttingDown()) return done();
    reply.header('connection', 'close');
    done(new AppError('service_unavailable'));
  });
  // Per-request lines would cost a third of the throughput, so they are written at debug only.
  if (options.logLevel === 'debug' || options.logLevel === 'trace') {
    app.addHook('onResponse', (request, reply, done) => {
      request.log.debug(
        { method: request.method, route: request.routeOptions.url, status: reply.statusCode, ms: reply.elapsedTime },
        'request completed',
      );
      done();
    });
  }
  // Bodies are JSON only: without this, Fastify's built-in text/plain parser hands the schemas a string.
  app.removeContentTypeParser('text/plain');
  // Path and query values arrive percent-decoded: U+0000 and lone surrogates are refused here, as
  // in bodies (json-body.ts), before a schema or a database sees them.
  app.addHook('preValidation', (request, _reply, done) => {
    const issue = textValuesProblem(request.params, 'path') ?? textValuesProblem(request.query, 'query');
    done(issue ? new AppError('validation_error', { issues: [issue] }) : undefined);
  });
  // UUIDs are case-insensitive and stored in lower case: ids in the path and the query string are
  // folded here, once, after validation, so no service or route has to.
  app.addHook('preHandler', (request, _reply, done) => {
    foldUuids(request.params);
    foldUuids(request.query);
    done();
  });
}

export function setSecurityHeaders(requestId: string, reply: FastifyReply): void {
  reply.header('x-request-id', requestId);
  reply.header('cache-control', 'no-store');
  reply.header('x-content-type-options', 'nosniff');
}

function textValuesProblem(values: unknown, part: string): ValidationIssue | null {
  if (typeof values !== 'object' || values === null) return null;
  const record = values as Record<string, unknown>;
  for (const name in record) {
    const nameProblem = textProblem(name);
    if (nameProblem) return { loc: [part, name], ...nameProblem };
    const value = record[name];
    for (const text of Array.isArray(value) ? value : [value]) {
      const problem = typeof text === 'string' ? textProblem(text) : null;
      if (problem) return { loc: [part, name], ...problem };
    }
  }
  return null;
}

function foldUuids(values: unknown): void {
  if (typeof values !== 'object' || values === null) return;
  const record = values as Record<string, unknown>;
  for (const name in record) {
    const value = record[name];
    if (typeof value === 'string' && value !== value.toLowerCase() && UUID.test(value)) {
      record[name] = value.toLowerCase();
    }
  }
}

const UUID = new RegExp(UUID_PATTERN);
