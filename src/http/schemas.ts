import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { METADATA_LIMITS } from './validation.js';

/** Schemas shared by every feature: ids, timestamps, metadata, pagination and error bodies. */
export const Uuid = Type.String({ format: 'uuid' });
export const DateTime = Type.String({ format: 'date-time' });

/**
 * Nullability as OpenAPI 3.1 / JSON Schema writes it: `type: ["string", "null"]` for a simple
 * type (one clear validation error, as Pydantic gives), `anyOf` with null for a reference.
 */
export function Nullable<T extends TSchema>(schema: T) {
  const { type } = schema as { type?: unknown };
  if (typeof type === 'string') return Type.Unsafe<Static<T> | null>({ ...schema, type: [type, 'null'] });
  return Type.Union([schema, Type.Null()]);
}

export const FreeObject = Type.Object({}, { additionalProperties: true });

export const Metadata = Type.Object(
  {},
  {
    additionalProperties: Type.Unsafe({ 'x-max-value-length': METADATA_LIMITS.maxValueLength }),
    maxProperties: METADATA_LIMITS.maxKeys,
    propertyNames: { maxLength: METADATA_LIMITS.maxKeyLength },
    description: `Free-form key/value pairs: at most ${METADATA_LIMITS.maxKeys} keys of at most ${METADATA_LIMITS.maxKeyLength} characters; a string value at most ${METADATA_LIMITS.maxValueLength} characters, any other value at most ${METADATA_LIMITS.maxValueLength} characters of JSON.`,
  },
);

export const LIST_LIMIT = { min: 1, max: 100, default: 50 } as const;

/**
 * The largest `offset` (and the deepest executions page) a list accepts. Beyond it SQL integers
 * overflow on one backend or the other (a 500 before); no list is that long.
 */
export const MAX_LIST_OFFSET = 1_000_000_000;

export const PaginationQuery = {
  limit: Type.Integer({
    minimum: LIST_LIMIT.min,
    maximum: LIST_LIMIT.max,
    default: LIST_LIMIT.default,
    description: 'How many items to return.',
  }),
  offset: Type.Integer({ minimum: 0, maximum: MAX_LIST_OFFSET, default: 0, description: 'How many items to skip.' }),
};

export const ValidationErrorResponse = Type.Object(
  {
    detail: Type.Array(
      Type.Object({
        loc: Type.Array(Type.Union([Type.String(), Type.Integer()])),
        msg: Type.String(),
        type: Type.String(),
      }),
    ),
    code: Type.Literal('validation_error'),
    request_id: Type.String(),
  },
  { $id: 'HTTPValidationError', description: 'FastAPI-shaped validation error (422).' },
);

export const ErrorResponse = Type.Object(
  {
    detail: Type.String(),
    code: Type.String({ description: 'Stable error code; see docs/errors.md.' }),
    request_id: Type.String(),
    quota: Type.Optional(
      Type.Object(
        {
          period: Type.String(),
          max_tokens: Nullable(Type.Integer()),
          max_cost: Nullable(Type.Number()),
          used_tokens: Type.Integer(),
          used_cost: Type.Number(),
          resets_at: DateTime,
        },
        { description: 'On `quota_exceeded` only: the budget, its use and when it starts afresh.' },
      ),
    ),
  },
  { $id: 'ErrorResponse' },
);

/** The error responses every authenticated route can give, for the OpenAPI document. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  const responses: Record<number, TSchema> = {
    401: Type.Ref(ErrorResponse),
    403: Type.Ref(ErrorResponse),
    422: Type.Ref(ValidationErrorResponse),
  };
  for (const status of statuses) responses[status] = Type.Ref(ErrorResponse);
  return responses;
}

/**
 * Keyset pagination beside limit/offset (an extension, docs/api.md "Cursor pagination"): the id
 * of an item of the same list; the page is the items after it, or the `limit` items before it.
 */
export const CursorQuery = {
  before: Type.Optional(
    Type.String({
      format: 'uuid',
      description: 'Extension: the page just before this item of the list (its id), in list order.',
    }),
  ),
  after: Type.Optional(
    Type.String({
      format: 'uuid',
      description: 'Extension: the page just after this item of the list (its id).',
    }),
  ),
};
