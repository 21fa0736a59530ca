import { Type } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../../http/auth.js';
import type { Idempotency } from '../../http/idempotency.js';
import { ErrorResponse, errorResponses, ValidationErrorResponse } from '../../http/schemas.js';
import { typedApp, type TypedApp } from '../../http/typed-app.js';
import { AgentTool } from '../tools/tools.schemas.js';
import type { McpServerCreateBody, McpServersService, McpServerUpdateBody } from './mcp-servers.service.js';
import {
  McpConnectResponse,
  McpHealthCheck,
  McpServer,
  McpServerCreate,
  McpServerListQuery,
  McpServerParams,
  McpServersParams,
  McpServerUpdate,
} from './mcp.schemas.js';

type McpRoutesDependencies = { mcp: McpServersService; idempotency: Idempotency };

const tags = ['mcp-servers'];
const BASE = '/api/v1/mcp/agents/:agent_id/servers';

/** A URL refused by the guarded client is 422 `url_not_allowed` with a plain `detail`, besides the validation shape. */
const UrlErrors = {
  422: Type.Union([Type.Ref(ValidationErrorResponse), Type.Ref(ErrorResponse)]),
};

export function registerMcpRoutes(parent: FastifyInstance, dependencies: McpRoutesDependencies): void {
  const app = typedApp(parent);
  for (const schema of [McpServer, McpServerCreate, McpServerUpdate, McpHealthCheck, McpConnectResponse])
    app.addSchema(schema);
  registerCollectionRoutes(app, dependencies);
  registerItemRoutes(app, dependencies);
  registerActionRoutes(app, dependencies);
}

function scope(request: { params: { agent_id: string; server_id: string } }, organizationId: string) {
  return { organizationId, agentId: request.params.agent_id, serverId: request.params.server_id };
}

function registerCollectionRoutes(app: TypedApp, { mcp, idempotency }: McpRoutesDependencies): void {
  app.post(BASE, {
    config: { scope: 'write', documentedHeaders: ['Idempotency-Key'] },
    schema: {
      tags,
      operationId: 'createMcpServer',
      summary: 'Register MCP server for agent (the server is not contacted)',
      params: McpServersParams,
      body: Type.Ref(McpServerCreate),
      response: { 200: Type.Ref(McpServer), ...errorResponses(404, 409), ...UrlErrors },
    },
    handler: (request, reply) =>
      idempotency.send(request, reply, (claim) =>
        mcp.create({
          organizationId: principalOf(request).organizationId,
          agentId: request.params.agent_id,
          body: request.body as McpServerCreateBody,
          idempotency: claim,
        }),
      ),
  });

  app.get(BASE, {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'listMcpServers',
      summary: "List agent's MCP servers (in the order registered)",
      params: McpServersParams,
      querystring: McpServerListQuery,
      response: { 200: Type.Array(Type.Ref(McpServer)), ...errorResponses(404) },
    },
    handler: (request) =>
      mcp.list({
        organizationId: principalOf(request).organizationId,
        agentId: request.params.agent_id,
        status: request.query.status,
      }),
  });
}

function registerItemRoutes(app: TypedApp, { mcp }: McpRoutesDependencies): void {
  app.get(`${BASE}/:server_id`, {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'getMcpServer',
      summary: 'Get MCP server',
      'x-parley-extension': true,
      params: McpServerParams,
      response: { 200: Type.Ref(McpServer), ...errorResponses(404) },
    },
    handler: (request) => mcp.get(scope(request, principalOf(request).organizationId)),
  });

  app.put(`${BASE}/:server_id`, {
    config: { scope: 'write' },
    schema: {
      tags,
      operationId: 'updateMcpServer',
      summary: 'Update MCP server',
      params: McpServerParams,
      body: Type.Ref(McpServerUpdate),
      response: { 200: Type.Ref(McpServer), ...errorResponses(404, 409), ...UrlErrors },
    },
    handler: (request) =>
      mcp.update({
        ...scope(request, principalOf(request).organizationId),
        changes: request.body as McpServerUpdateBody,
      }),
  });

  app.delete(`${BASE}/:server_id`, {
    config: { scope: 'write' },
    schema: {
      tags,
      operationId: 'deleteMcpServer',
      summary: 'Delete MCP server, its tools and its stored credentials',
      'x-parley-extension': true,
      params: McpServerParams,
      response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(404, 409) },
    },
    handler: async (request, reply) => {
      await mcp.delete(scope(request, principalOf(request).organizationId));
      return reply.code(204).send(null);
    },
  });
}

function registerActionRoutes(app: TypedApp, { mcp }: McpRoutesDependencies): void {
  app.post(`${BASE}/:server_id/connect`, {
    config: { scope: 'write' },
    schema: {
      tags,
      operationId: 'connectMcpServer',
      summary: 'Connect (auto-detect OAuth vs public)',
      params: McpServerParams,
      response: { 200: Type.Ref(McpConnectResponse), ...errorResponses(404, 502) },
    },
    handler: (request) => mcp.connect(scope(request, principalOf(request).organizationId)),
  });

  app.post(`${BASE}/:server_id/health-check`, {
    config: { scope: 'write' },
    schema: {
      tags,
      operationId: 'checkMcpServerHealth',
      summary: 'Run health check',
      params: McpServerParams,
      response: { 200: Type.Ref(McpHealthCheck), ...errorResponses(404) },
    },
    handler: (request) => mcp.healthCheck(scope(request, principalOf(request).organizationId)),
  });

  app.get(`${BASE}/:server_id/tools`, {
    config: { scope: 'read' },
    schema: {
      tags,
      operationId: 'getMcpServerTools',
      summary: 'Tools exposed by MCP server (as synced at the last connect)',
      params: McpServerParams,
      response: { 200: Type.Array(Type.Ref(AgentTool)), ...errorResponses(404) },
    },
    handler: (request) => mcp.tools(scope(request, principalOf(request).organizationId)),
  });
}
