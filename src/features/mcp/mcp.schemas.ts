import { Type } from '@sinclair/typebox';
import { DateTime, Nullable, Uuid } from '../../http/schemas.js';

const Url = Type.String({ minLength: 1, maxLength: 2048 });

const AuthConfig = Nullable(
  Type.Object(
    {},
    {
      additionalProperties: true,
      description:
        'How to authenticate (docs/mcp.md): e.g. `{"type": "oauth2", "client_id": "…", "client_secret": "…"}`, `{"type": "bearer", "token": "…"}` or `{"headers": {"X-Api-Key": "…"}}`. Secret values are encrypted at rest and shown as "••••" and their last four characters; sending a masked value back keeps the stored secret.',
    },
  ),
);

export const McpServer = Type.Object(
  {
    id: Uuid,
    agent_id: Uuid,
    name: Type.String(),
    url: Type.String(),
    auth_config: AuthConfig,
    health_check_url: Nullable(Type.String()),
    tool_discovery_endpoint: Nullable(Type.String()),
    status: Type.String({
      description: '`registered`, `connected`, `needs_authorization`, `unhealthy` or `unreachable` (docs/mcp.md).',
    }),
    status_reason: Nullable(
      Type.String({ description: 'Why the server is not connected, in words a user can act on (extension).' }),
    ),
    last_health_check: Nullable(DateTime),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { $id: 'MCPServer', additionalProperties: false },
);

export const McpServerCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    url: Type.String({ ...Url, description: 'The MCP endpoint: an http(s) URL (Streamable HTTP or legacy HTTP+SSE).' }),
    agent_id: Type.Optional(Type.String({ format: 'uuid', description: 'If given, must equal the path agent_id.' })),
    auth_config: Type.Optional(AuthConfig),
    tool_discovery_endpoint: Type.Optional(
      Nullable(
        Type.String({
          maxLength: 2048,
          default: '/tools',
          description: 'Kept for compatibility; tools come from MCP `tools/list`.',
        }),
      ),
    ),
    health_check_url: Type.Optional(Nullable(Url)),
  },
  { $id: 'MCPServerCreate', additionalProperties: false },
);

export const McpServerUpdate = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    url: Type.Optional(Url),
    auth_config: Type.Optional(AuthConfig),
    health_check_url: Type.Optional(Nullable(Url)),
    tool_discovery_endpoint: Type.Optional(Nullable(Type.String({ maxLength: 2048 }))),
    status: Type.Optional(
      Type.String({ description: 'Only the current status is accepted: connect and health checks set it.' }),
    ),
  },
  {
    $id: 'MCPServerUpdate',
    additionalProperties: false,
    description:
      'Partial update. A new `url` or `auth_config` makes the server `registered` again and closes its connection.',
  },
);

export const McpHealthCheck = Type.Object(
  {
    mcp_server_id: Uuid,
    status: Type.Union([Type.Literal('healthy'), Type.Literal('unhealthy'), Type.Literal('unreachable')]),
    checked_at: DateTime,
    response_time_ms: Type.Number(),
    available_tools: Type.Integer(),
    error_message: Nullable(Type.String()),
  },
  { $id: 'MCPHealthCheck', additionalProperties: false },
);

export const McpConnectResponse = Type.Object(
  {
    status: Type.String({ description: '`success` or `authorization_required`.' }),
    message: Type.String(),
    authorization_url: Nullable(Type.String()),
  },
  { $id: 'MCPConnectResponse', additionalProperties: false },
);

/** The contract types the MCP family's `agent_id` as a plain string and `server_id` as a UUID. */
export const McpServersParams = Type.Object({ agent_id: Type.String({ minLength: 1, maxLength: 64 }) });
export const McpServerParams = Type.Object({
  agent_id: Type.String({ minLength: 1, maxLength: 64 }),
  server_id: Type.String({ format: 'uuid' }),
});
export const McpServerListQuery = Type.Object({
  status: Type.Optional(Type.String({ maxLength: 64, description: 'Only servers with this status.' })),
});
