import { Type, type TSchema } from '@sinclair/typebox';

/**
 * The `configuration` each kind of tool accepts. Unknown keys are refused (a typo such as
 * `max_result` would otherwise be silently ignored).
 */
const TimeoutMs = Type.Integer({
  minimum: 100,
  maximum: 60_000,
  description: 'Deadline of one call, in milliseconds.',
});

export const BUILT_IN_TOOL_NAMES = ['current_time', 'calculator', 'http_request', 'knowledge_base_search'] as const;
export type BuiltInToolName = (typeof BUILT_IN_TOOL_NAMES)[number];

export const BUILT_IN_CONFIGURATIONS: Record<BuiltInToolName, TSchema> = {
  current_time: Type.Object(
    { timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) },
    { additionalProperties: false },
  ),
  calculator: Type.Object({}, { additionalProperties: false }),
  http_request: Type.Object(
    {
      allowed_methods: Type.Optional(
        Type.Array(Type.Union([Type.Literal('GET'), Type.Literal('POST')]), { minItems: 1, uniqueItems: true }),
      ),
      timeout_ms: Type.Optional(TimeoutMs),
      max_response_bytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 1024 * 1024 })),
    },
    { additionalProperties: false },
  ),
  knowledge_base_search: Type.Object(
    {
      max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
      include_metadata: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
};

export const AUTH_TYPES = ['none', 'api_key', 'bearer', 'basic', 'oauth2_client_credentials'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

const Secret = Type.String({ minLength: 1, maxLength: 4096 });
const HttpUrl = Type.String({ minLength: 1, maxLength: 2048 });

/** One schema per `auth.type`, checked once the type is known (one clear error, not one per branch). */
export const AUTH_CONFIGURATIONS: Record<AuthType, TSchema> = {
  none: Type.Object({ type: Type.Literal('none') }, { additionalProperties: false }),
  api_key: Type.Object(
    {
      type: Type.Literal('api_key'),
      in: Type.Union([Type.Literal('header'), Type.Literal('query')]),
      name: Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }),
      value: Secret,
    },
    { additionalProperties: false },
  ),
  bearer: Type.Object({ type: Type.Literal('bearer'), token: Secret }, { additionalProperties: false }),
  basic: Type.Object(
    { type: Type.Literal('basic'), username: Type.String({ maxLength: 256 }), password: Secret },
    { additionalProperties: false },
  ),
  oauth2_client_credentials: Type.Object(
    {
      type: Type.Literal('oauth2_client_credentials'),
      token_url: HttpUrl,
      client_id: Type.String({ minLength: 1, maxLength: 512 }),
      client_secret: Secret,
      scopes: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 50 })),
    },
    { additionalProperties: false },
  ),
};

const Templates = (maxLength: number) =>
  Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.String({ maxLength }), { maxProperties: 32 });

export const EXTERNAL_TOOL_CONFIGURATION = Type.Object(
  {
    description: Type.String({ minLength: 1, maxLength: 1024 }),
    method: Type.Union(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((method) => Type.Literal(method))),
    url: HttpUrl,
    input_schema: Type.Object({}, { additionalProperties: true }),
    headers: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }), Secret, {
        maxProperties: 32,
      }),
    ),
    query: Type.Optional(Templates(1024)),
    // A map of body fields to templates, or "{name}": that input property is the whole JSON body.
    body: Type.Optional(
      Type.Union([Templates(1024), Type.String({ pattern: '^\\{[A-Za-z_]\\w{0,63}\\}$', maxLength: 66 })]),
    ),
    timeout_ms: Type.Optional(TimeoutMs),
    requires_approval: Type.Optional(Type.Boolean()),
    auth: Type.Optional(
      Type.Object({ type: Type.Union(AUTH_TYPES.map((type) => Type.Literal(type))) }, { additionalProperties: true }),
    ),
  },
  { additionalProperties: false },
);

/** The largest `configuration`, as JSON text: an input schema is the largest part. */
export const MAX_CONFIGURATION_CHARACTERS = 64 * 1024;
