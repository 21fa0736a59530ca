import type { FastifyInstance } from 'fastify';
import { Type } from '@fastify/type-provider-typebox';
import { principalOf } from '../../http/auth.js';
import { errorResponses } from '../../http/schemas.js';
import { typedApp } from '../../http/typed-app.js';
import type { ToolCallsService } from './tool-calls.service.js';
import { AuditedToolCall, ToolCallApproval, ToolCallList, ToolCallListQuery } from './tool-calls.schemas.js';

/** The audit list of tool calls across an organisation's threads (docs/tools.md). */
export function registerToolCallRoutes(parent: FastifyInstance, dependencies: { toolCalls: ToolCallsService }): void {
  const app = typedApp(parent);
  const { toolCalls } = dependencies;
  for (const schema of [ToolCallApproval, AuditedToolCall, ToolCallList]) app.addSchema(schema);

  app.get('/api/v1/tool-calls', {
    config: { scope: 'read' },
    schema: {
      tags: ['agent-tools'],
      operationId: 'listToolCalls',
      summary: 'List tool calls across threads (newest first)',
      'x-parley-extension': true,
      querystring: ToolCallListQuery,
      response: { 200: Type.Ref(ToolCallList), ...errorResponses() },
    },
    handler: (request) => {
      const { query } = request;
      return toolCalls.list({
        organizationId: principalOf(request).organizationId,
        agentId: query.agent_id,
        toolName: query.tool_name,
        status: query.status,
        from: query.from,
        to: query.to,
        page: query.page,
        pageSize: query.page_size,
      });
    },
  });
}
