import { Type } from '@sinclair/typebox';
import { TOOL_TYPES } from '../../domain/agent-tools.js';
import { DateTime, Nullable, Uuid } from '../../http/schemas.js';

/** What the model calls the tool: a valid function name for every provider. */
const ToolName = Type.String({
  pattern: '^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$',
  description:
    'Unique per agent; a function name (letters, digits, _ and -, at most 64, not starting with a digit or -).',
});

const ToolTypeSchema = Type.Union(
  TOOL_TYPES.map((type) => Type.Literal(type)),
  {
    description:
      '`built_in`, `external_tool`, or `mcp_server` (a tool of one of the agent’s MCP servers; usually made by connect).',
  },
);

const Configuration = Nullable(
  Type.Object(
    {},
    {
      additionalProperties: true,
      description:
        'Per tool type (docs/tools.md). Secret values (auth credentials, header values) are encrypted at rest and shown as "••••" and their last four characters; sending a masked value back keeps the stored secret.',
    },
  ),
);

export const AgentTool = Type.Object(
  {
    id: Uuid,
    agent_id: Uuid,
    tool_name: Type.String(),
    tool_type: Type.String({ description: '`built_in`, `mcp_server` or `external_tool`.' }),
    configuration: Configuration,
    is_enabled: Type.Boolean(),
    mcp_server_id: Nullable(Uuid),
    external_tool_connection_id: Nullable(Uuid),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { $id: 'AgentTool', additionalProperties: false, description: 'Model for an agent tool configuration.' },
);

export const AgentToolCreate = Type.Object(
  {
    tool_name: ToolName,
    tool_type: ToolTypeSchema,
    agent_id: Type.Optional(Type.String({ format: 'uuid', description: 'If given, must equal the path agent_id.' })),
    configuration: Type.Optional(Configuration),
    is_enabled: Type.Optional(Type.Boolean({ default: true })),
    mcp_server_id: Type.Optional(Nullable(Type.String({ format: 'uuid' }))),
    external_tool_connection_id: Type.Optional(Nullable(Type.String({ format: 'uuid' }))),
  },
  { $id: 'AgentToolCreate', additionalProperties: false },
);

export const AgentToolUpdate = Type.Object(
  {
    tool_name: Type.Optional(ToolName),
    tool_type: Type.Optional(ToolTypeSchema),
    configuration: Type.Optional(Configuration),
    is_enabled: Type.Optional(Type.Boolean()),
    mcp_server_id: Type.Optional(Nullable(Type.String({ format: 'uuid' }))),
    external_tool_connection_id: Type.Optional(Nullable(Type.String({ format: 'uuid' }))),
  },
  {
    $id: 'AgentToolUpdate',
    additionalProperties: false,
    description:
      'Partial update: only the fields given change; `configuration`, when given, replaces the old one (masked secrets sent back are kept).',
  },
);

/** The contract types the agent-tools family's `agent_id` as a plain string (not a UUID). */
const AgentIdParam = Type.String({ minLength: 1, maxLength: 64 });
const ToolIdParam = Type.String({ minLength: 1, maxLength: 64 });

export const AgentToolsParams = Type.Object({ agent_id: AgentIdParam });
export const AgentToolParams = Type.Object({ agent_id: AgentIdParam, tool_id: ToolIdParam });

export const AgentToolListQuery = Type.Object({
  tool_type: Type.Optional(ToolTypeSchema),
  is_enabled: Type.Optional(Type.Boolean()),
});
