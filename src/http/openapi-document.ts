import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifySchema, RouteOptions } from 'fastify';
import { ErrorResponse, ValidationErrorResponse } from './schemas.js';

/** Request headers a route reads that its validation schema leaves out (they are checked by hand). */
export type DocumentedHeader = 'Idempotency-Key' | 'Last-Event-ID';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Headers the route honours, for the OpenAPI document only: nothing validates them from here. */
    documentedHeaders?: readonly DocumentedHeader[];
    /**
     * A request body the route reads itself (a multipart upload, streamed): documented with its
     * media type, never validated from here (a `schema.body` would make Fastify validate it).
     */
    documentedBody?: { contentType: string; schema: TSchema };
  }
}

const REQUEST_HEADERS: Record<DocumentedHeader, TSchema> = {
  'Idempotency-Key': Type.String({
    pattern: '^[!-~]{1,255}$',
    description:
      'Makes a retry safe: a request repeated with the same key (and the same body) within 24 hours replays the first answer instead of creating again. See docs/api.md.',
  }),
  'Last-Event-ID': Type.String({
    pattern: '^\\d{1,15}(\\.\\d{1,9})?$',
    description: 'Resume after this event id (what `EventSource` sends on reconnect); wins over `?after=`.',
  }),
};

/** Answers every route of a kind can give, from the hooks and the error handler rather than the handler. */
const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request cannot be served as sent (`bad_request`: e.g. the body is not valid JSON).',
  401: 'No valid API key (`invalid_api_key`, `key_revoked`), or on `GET …/stream` no valid stream token (`invalid_stream_token`), or on a visitor route no valid visitor token (`invalid_widget_token`, `widget_token_expired`).',
  403: 'The key lacks the scope this operation needs (`insufficient_scope`).',
  404: 'A resource in the path does not exist in the caller’s organisation.',
  409: 'The resource is busy (`thread_busy`, `run_not_active`, `idempotency_key_in_flight`).',
  413: 'The body is larger than the server accepts (`payload_too_large`).',
  415: 'The body is not `application/json` (`unsupported_media_type`).',
  422: 'The request does not match its schema (`validation_error`; `detail` lists each problem).',
  429: 'A rate limit’s budget is spent (`rate_limited`: the API key’s, its organisation’s or a widget visitor’s), too many failed authentications from this address, or too many open streams; see Retry-After, and RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset (docs/security.md, “Rate limits”).',
  502: 'The model provider failed (`model_error`).',
  504: 'The run did not finish in time (`run_timeout`).',
  500: 'Unexpected server error (`internal_error`); the message is never forwarded.',
  503: 'The server is shutting down or not ready (`service_unavailable`).',
};

/** A response as `@fastify/swagger` takes it with its own description (a `$ref`'s siblings are dropped). */
function described(description: string, schema: TSchema) {
  return { description, content: { 'application/json': { schema } } };
}

function errorBody(status: number, body: TSchema = ErrorResponse) {
  return described(ERROR_DESCRIPTIONS[status] ?? 'Error.', Type.Ref(body));
}

/**
 * `@fastify/swagger`'s per-route transform: declares what the route answers beyond its own
 * schema — the statuses the edge gives (body parsing, authentication, shutdown) and the headers
 * it reads by hand — so the document says everything a client can receive. Runtime validation
 * and serialisation are untouched: error bodies are written by the error handler.
 */
export function documentRoute(input: { schema: FastifySchema | undefined; url: string; route: RouteOptions }): {
  schema: FastifySchema;
  url: string;
} {
  const { url, route } = input;
  const schema = input.schema ?? {};
  const config = (route.config ?? {}) as {
    public?: boolean;
    anonymous?: boolean;
    streamToken?: boolean;
    documentedHeaders?: readonly DocumentedHeader[];
    documentedBody?: { contentType: string; schema: TSchema };
  };
  const headers = config.documentedHeaders ?? [];
  const responses: Record<string, unknown> = { ...(schema.response as Record<string, unknown> | undefined) };
  const add = (status: number) => {
    const reference = (responses[status] as { $ref?: unknown } | undefined)?.$ref;
    if (reference === ValidationErrorResponse.$id) responses[status] = errorBody(status, ValidationErrorResponse);
    else if (responses[status] === undefined || reference === ErrorResponse.$id) responses[status] = errorBody(status);
  };
  Object.keys(responses).map(Number).forEach(add);
  if (schema.body !== undefined || config.documentedBody) [400, 413, 415].forEach(add);
  if (config.public !== true) [401, 403, 429].forEach(add);
  [500, 503].forEach(add);
  if (headers.includes('Idempotency-Key')) {
    add(409);
    // A reused key is a 422 with a string `detail`; a body that fails validation, one with a list.
    // `anyOf`: the shapes differ only by the type of `detail`, which redocly's oneOf check cannot see.
    responses[422] = described(
      'Validation failed (`validation_error`), or the Idempotency-Key was used with another request (`idempotency_key_reused`).',
      Type.Union([Type.Ref(ValidationErrorResponse), Type.Ref(ErrorResponse)]),
    );
  }
  const documented: FastifySchema = { ...schema, response: responses };
  // A route a widget visitor may call says so in its security requirements (config.anonymous).
  if (config.anonymous === true) {
    (documented as { security?: unknown }).security = [
      { APIKeyHeader: [] },
      ...(config.streamToken === true ? [{ StreamToken: [] }] : []),
      { VisitorToken: [] },
    ];
  }
  if (config.documentedBody) {
    documented.body = config.documentedBody.schema;
    (documented as { consumes?: string[] }).consumes = [config.documentedBody.contentType];
  }
  if (headers.length > 0) {
    documented.headers = Type.Object(
      Object.fromEntries(headers.map((name) => [name, Type.Optional(REQUEST_HEADERS[name])])),
    );
  }
  return { schema: documented, url };
}

type JsonObject = Record<string, unknown>;

const EXTENSION = 'x-parley-extension';

/**
 * `@fastify/swagger`'s whole-document transform, for what the route schemas say for the server's
 * own validator rather than for clients:
 * - a query parameter with a default is optional (ajv `useDefaults` fills it in);
 * - `x-parley-extension` on a parameter's schema (a parameter the contract does not state) is
 *   put on the parameter itself, where OpenAPI extensions of a parameter belong;
 * - `x-max-value-length` is a keyword of Parley's ajv only (strict validators reject unknown
 *   keywords); the schema's description states the limit;
 * - request bodies say `additionalProperties: false` so that ajv (`removeAdditional: true`) drops
 *   unknown fields; the server accepts and ignores them, so the document does not forbid them.
 */
export function finishDocument(document: JsonObject): JsonObject {
  const finished = structuredClone(document);
  const paths = (finished.paths ?? {}) as Record<string, Record<string, JsonObject>>;
  const requestBodies = new Set<string>();
  for (const operation of Object.values(paths).flatMap((item) => Object.values(item))) {
    for (const parameter of (operation.parameters ?? []) as JsonObject[]) {
      const schema = parameter.schema as JsonObject | undefined;
      if (parameter.in !== 'path' && schema?.default !== undefined) delete parameter.required;
      if (schema?.[EXTENSION] === true) {
        delete schema[EXTENSION];
        parameter[EXTENSION] = true;
      }
    }
    const content = (operation.requestBody as { content?: Record<string, { schema?: JsonObject }> } | undefined)
      ?.content;
    for (const media of Object.values(content ?? {})) {
      const reference = media.schema?.$ref;
      if (typeof reference === 'string') requestBodies.add(reference.replace('#/components/schemas/', ''));
      else if (media.schema) acceptUnknownFields(media.schema);
    }
  }
  const components = ((finished.components as JsonObject | undefined)?.schemas ?? {}) as Record<string, JsonObject>;
  for (const name of requestBodies) if (components[name]) acceptUnknownFields(components[name]);
  removeKeyword(finished, 'x-max-value-length');
  return finished;
}

function acceptUnknownFields(schema: JsonObject): void {
  if (schema.additionalProperties === false) delete schema.additionalProperties;
}

function removeKeyword(value: unknown, keyword: string): void {
  if (Array.isArray(value)) {
    for (const item of value) removeKeyword(item, keyword);
  } else if (value !== null && typeof value === 'object') {
    const object = value as JsonObject;
    delete object[keyword];
    for (const child of Object.values(object)) removeKeyword(child, keyword);
  }
}
