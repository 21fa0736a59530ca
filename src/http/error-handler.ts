import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { toValidationIssues } from './validation.js';

/**
 * The only place that writes error responses. Validation errors become FastAPI's 422 body;
 * everything else `{"detail", "code", "request_id"}`. A 5xx never carries the underlying message.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  const routes = collectRoutes(app);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error, request);
    if (appError.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendError(reply, request, appError);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? request.url;
    const allowed = routes.methodsFor(path);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      return sendError(reply, request, new AppError('method_not_allowed', { headers: { allow: allowed.join(', ') } }));
    }
    return sendError(reply, request, new AppError('route_not_found'));
  });
}

export function sendError(reply: FastifyReply, request: FastifyRequest, error: AppError): FastifyReply {
  if (error.headers) reply.headers(error.headers);
  const detail = error.code === 'validation_error' && error.issues ? error.issues : error.message;
  return reply
    .code(error.status)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify({ detail, code: error.code, request_id: request.id, ...error.extra }));
}

function toAppError(error: FastifyError, request: FastifyRequest): AppError {
  if (error instanceof AppError) return error;
  if (error.validation) {
    const context = error.validationContext ?? 'body';
    const bodyMissing = context === 'body' && (request.body === undefined || request.body === null);
    return new AppError('validation_error', {
      issues: toValidationIssues(error.validation as never, context, { bodyMissing }),
    });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('validation_error', { issues: [{ loc: ['body'], msg: 'Field required', type: 'missing' }] });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('validation_error', {
        issues: [{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }],
      });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type');
    default:
      break;
  }
  // JSON.parse and secure-json-parse (prototype poisoning) raise SyntaxError for bad bodies.
  if (error instanceof SyntaxError || (error.statusCode === 400 && /json/i.test(error.message))) {
    return new AppError('validation_error', {
      issues: [{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }],
    });
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new AppError('bad_request');
  }
  return new AppError('internal_error');
}

/** Remembers every route's path pattern so an unmatched method can be answered with 405 + Allow. */
function collectRoutes(app: FastifyInstance) {
  const patterns: { pattern: RegExp; methods: Set<string> }[] = [];
  app.addHook('onRoute', (route) => {
    const source = route.url
      .split('/')
      .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : escapeRegExp(segment)))
      .join('/');
    // Anchored; literal segments and `[^/]+` between slashes, and `.*` for a `*`, which the router
    // allows only at the end: linear in the path, though built where regexp lint cannot see it.
    const pattern = new RegExp(`^${source}$`);
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    let entry = patterns.find((candidate) => candidate.pattern.source === pattern.source);
    if (!entry) {
      entry = { pattern, methods: new Set() };
      patterns.push(entry);
    }
    for (const method of methods) entry.methods.add(method);
  });
  return {
    methodsFor(path: string): string[] {
      const methods = new Set<string>();
      for (const entry of patterns)
        if (entry.pattern.test(path)) for (const method of entry.methods) methods.add(method);
      return [...methods].sort();
    },
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
