import { Type } from '@sinclair/typebox';
import { AGENT_STATUSES } from '../../domain/models.js';
import { FreeObject, Metadata, Nullable, PaginationQuery, Uuid } from '../../http/schemas.js';
import { AGENT_FILES_SHOWN } from '../../domain/agent-files.js';
import { AgentFile } from '../files/files.schemas.js';

const AgentStatus = Type.Union(
  AGENT_STATUSES.map((status) => Type.Literal(status)),
  { description: 'Lifecycle status of the agent.' },
);

export const Agent = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    description: Nullable(Type.String()),
    avatar_url: Nullable(Type.String()),
    configuration: FreeObject,
    template_id: Uuid,
    organization_id: Uuid,
    status: Type.String(),
    metadata: FreeObject,
    files: Type.Array(Type.Ref(AgentFile), {
      description: `The agent's newest ${AGENT_FILES_SHOWN} knowledge files, newest first (all of them: GET /api/v1/agent-files/{agent_id}/files).`,
    }),
    team_id: Nullable(Type.Array(Type.String())),
    completed_flows_count: Type.Integer(),
    pending_flows_count: Type.Integer(),
    bot_sub: Type.String(),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { $id: 'Agent', additionalProperties: false },
);

const Configuration = Type.Object(
  {},
  {
    additionalProperties: true,
    description:
      'Agent settings: `model` ("demo", "openai:<model>", …), `instructions`, `temperature`, `max_steps`, `tools`, and free-form keys such as `tone`, `role`, `goal`.',
  },
);

export const AgentCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    configuration: Configuration,
    template_id: Type.String({ format: 'uuid', description: 'A template id from GET /api/v1/templates.' }),
    description: Type.Optional(Nullable(Type.String({ maxLength: 4000 }))),
    avatar_url: Type.Optional(Nullable(Type.String({ maxLength: 2048 }))),
    metadata: Type.Optional(Metadata),
    status: Type.Optional(AgentStatus),
    team_id: Type.Optional(Nullable(Type.Array(Type.String({ maxLength: 255 }), { maxItems: 100 }))),
  },
  { $id: 'AgentCreate', additionalProperties: false },
);

export const AgentUpdate = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    description: Type.Optional(Nullable(Type.String({ maxLength: 4000 }))),
    configuration: Type.Optional(Configuration),
    status: Type.Optional(AgentStatus),
    avatar_url: Type.Optional(Nullable(Type.String({ maxLength: 2048 }))),
    metadata: Type.Optional(Metadata),
    team_id: Type.Optional(Nullable(Type.Array(Type.String({ maxLength: 255 }), { maxItems: 100 }))),
  },
  {
    $id: 'AgentUpdate',
    additionalProperties: false,
    description: 'Partial update: only the fields given change. `configuration`, when given, replaces the old one.',
  },
);

export const AgentParams = Type.Object({ agent_id: Uuid });

export const AgentListQuery = Type.Object({
  status: Type.Optional(Type.String({ maxLength: 32, description: 'Only agents with this status.' })),
  ...PaginationQuery,
});

export const AgentTemplate = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    description: Type.String(),
    configuration: FreeObject,
  },
  { $id: 'AgentTemplate', additionalProperties: false },
);
