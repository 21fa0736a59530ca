import { Type } from '@sinclair/typebox';
import { AgentTool } from './tools.schemas.js';

/** The largest description accepted inline or fetched: a big public API (GitHub's) is ~10 MiB. */
export const MAX_DESCRIPTION_BYTES = 16 * 1024 * 1024;

export const OpenApiImportRequest = Type.Object(
  {
    document: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Object({}, { additionalProperties: true })], {
        description: 'The description inline: JSON or YAML text, or the parsed object. Give this or `url`.',
      }),
    ),
    url: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2048,
        description: 'Where to fetch the description (through the guarded outbound client). Give this or `document`.',
      }),
    ),
    base_url: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2048,
        description: 'Where relative server URLs resolve; `url` by default.',
      }),
    ),
    operations: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 300 }), {
        maxItems: 500,
        description: 'Only these operations, by operationId or `METHOD /path`; all when absent.',
      }),
    ),
    tool_name_prefix: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_-]{0,31}$' })),
    auth: Type.Optional(
      Type.Object(
        { type: Type.String() },
        { additionalProperties: true, description: 'As an external tool’s `auth`.' },
      ),
    ),
    requires_approval: Type.Optional(Type.Boolean()),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 120_000 })),
    is_enabled: Type.Optional(Type.Boolean()),
    dry_run: Type.Optional(Type.Boolean({ description: 'Say what would be created, and create nothing.' })),
  },
  { $id: 'OpenApiImportRequest', additionalProperties: false },
);

export const SkippedOperation = Type.Object(
  {
    operation: Type.String({ description: '`METHOD /path`' }),
    operation_id: Type.Union([Type.String(), Type.Null()]),
    reason: Type.String(),
  },
  { additionalProperties: false },
);

export const OpenApiImportResult = Type.Object(
  {
    created: Type.Array(Type.Ref(AgentTool), { description: 'The tools created (none on a dry run).' }),
    planned: Type.Array(
      Type.Object({ operation: Type.String(), tool_name: Type.String() }, { additionalProperties: false }),
      { description: 'Each operation that becomes (or, on a dry run, would become) a tool.' },
    ),
    skipped: Type.Array(SkippedOperation),
  },
  { $id: 'OpenApiImportResult', additionalProperties: false },
);
