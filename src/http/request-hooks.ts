import type { FastifyInstance, FastifyReply } from 'fastify';
import type { LogLevel } from '../config.js';
import { AppError, validationError } from '../errors.js';
import { UUID_PATTERN } from '../ids.js';
import { isNestedDeeperThan, MAX_JSON_DEPTH } from './validation.js';

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
  app.addHook('preValidation', (request, _reply, done) => {
    // Nesting deeper than the limit takes more bytes than the limit: small bodies need no walk.
    const length = Number(request.headers['content-length'] ?? Infinity);
    if (length <= MAX_JSON_DEPTH * 2 || !isNestedDeeperThan(request.body, MAX_JSON_DEPTH)) return done();
    done(validationError(['body'], `JSON should nest at most ${MAX_JSON_DEPTH} levels deep`, 'json_invalid'));
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
