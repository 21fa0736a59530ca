import type { AgentToolChanges, StoredAgentTool, ToolType } from '../../domain/agent-tools.js';
import type { JsonObject } from '../../domain/models.js';
import { AppError, validationError } from '../../errors.js';
import { sameId, type Clock, type IdGenerator } from '../../ids.js';
import type { SecretBox } from '../../security/secret-box.js';
import { isUniqueViolation } from '../../storage/kysely/agent-tools-store.js';
import type { IdempotencyClaim, Store } from '../../storage/store.js';
import { validateToolConfiguration } from './tool-configuration.js';
import { maskConfiguration, sealConfiguration } from './tool-secrets.js';

/** An agent tool as the API shows it (the contract's AgentTool): secrets masked. */
export type AgentToolView = Omit<StoredAgentTool, 'organization_id'>;

export interface AgentToolFields {
  tool_name: string;
  tool_type: ToolType;
  configuration?: JsonObject | null | undefined;
  is_enabled?: boolean | undefined;
  mcp_server_id?: string | null | undefined;
  external_tool_connection_id?: string | null | undefined;
}

interface AgentScope {
  organizationId: string;
  agentId: string;
}

interface ToolScope extends AgentScope {
  toolId: string;
}

export class ToolsService {
  constructor(private readonly dependencies: { store: Store; box: SecretBox; clock: Clock; newId: IdGenerator }) {}

  async list(
    input: AgentScope & { toolType?: ToolType | undefined; isEnabled?: boolean | undefined },
  ): Promise<AgentToolView[]> {
    await this.#requireAgent(input);
    const tools = await this.dependencies.store.agentTools.list(input);
    return tools.map((tool) => this.#view(tool));
  }

  async get(input: ToolScope): Promise<AgentToolView> {
    return this.#view(await this.#requireTool(input));
  }

  async create(
    input: AgentScope & {
      body: AgentToolFields & { agent_id?: string | undefined };
      idempotency?: IdempotencyClaim | undefined;
    },
  ): Promise<AgentToolView> {
    const { store, box, clock, newId } = this.dependencies;
    const { body } = input;
    if (body.agent_id !== undefined && !sameId(body.agent_id, input.agentId)) {
      throw validationError(['body', 'agent_id'], 'agent_id in the body must match the agent_id in the path');
    }
    const fields = checkedFields({ ...body, configuration: body.configuration ?? null });
    await this.#checkMcpServer({ ...input, toolType: fields.tool_type, serverId: body.mcp_server_id ?? null });
    const now = clock.now().toISOString();
    const tool: StoredAgentTool = {
      id: newId(),
      organization_id: input.organizationId,
      agent_id: input.agentId,
      tool_name: fields.tool_name,
      tool_type: fields.tool_type,
      configuration: sealConfiguration({ box, toolType: fields.tool_type, configuration: fields.configuration }),
      is_enabled: body.is_enabled ?? true,
      mcp_server_id: body.mcp_server_id ?? null,
      external_tool_connection_id: body.external_tool_connection_id ?? null,
      created_at: now,
      updated_at: now,
    };
    return store.write(
      async (writers) => {
        const result = await writers.agentTools.insert(tool);
        if (result.kind === 'agent_not_found') throw new AppError('agent_not_found');
        if (result.kind === 'name_taken') throw new AppError('tool_name_taken');
        if (result.kind === 'too_many_tools') throw new AppError('too_many_tools');
        return this.#view(result.tool);
      },
      { idempotency: input.idempotency },
    );
  }

  /**
   * Applies a partial update. The tool as it would be after the change is validated whole (a
   * new type with the old configuration must still make sense), so the read of the stored tool
   * and the write are one transaction.
   */
  async update(input: ToolScope & { changes: Partial<AgentToolFields> }): Promise<AgentToolView> {
    const { store, box, clock } = this.dependencies;
    const now = clock.now().toISOString();
    const write = store.write(async (writers) => {
      const stored = await writers.agentTools.get(key(input));
      if (!stored) return this.#notFound(input);
      const merged = checkedFields({
        tool_name: input.changes.tool_name ?? stored.tool_name,
        tool_type: input.changes.tool_type ?? stored.tool_type,
        configuration:
          input.changes.configuration === undefined ? this.#plainForValidation(stored) : input.changes.configuration,
        mcp_server_id: input.changes.mcp_server_id === undefined ? stored.mcp_server_id : input.changes.mcp_server_id,
        external_tool_connection_id:
          input.changes.external_tool_connection_id === undefined
            ? stored.external_tool_connection_id
            : input.changes.external_tool_connection_id,
      });
      if (input.changes.tool_type !== undefined || input.changes.mcp_server_id !== undefined) {
        await this.#checkMcpServer({ ...input, toolType: merged.tool_type, serverId: merged.mcp_server_id ?? null });
      }
      const changes: AgentToolChanges = { ...withoutUndefined(input.changes) };
      if (input.changes.configuration !== undefined || input.changes.tool_type !== undefined) {
        changes.configuration =
          input.changes.configuration === undefined
            ? stored.configuration
            : sealConfiguration({
                box,
                toolType: merged.tool_type,
                configuration: merged.configuration,
                stored: { toolType: stored.tool_type, configuration: stored.configuration },
              });
      }
      const result = await writers.agentTools.update({ ...key(input), changes, now });
      if (result.kind === 'not_found') return this.#notFound(input);
      if (result.kind === 'name_taken') throw new AppError('tool_name_taken');
      return this.#view(result.tool);
    });
    return write.catch((error: unknown) => {
      // Two concurrent renames onto one name on PostgreSQL: the unique index stops the second.
      throw isUniqueViolation(error) ? new AppError('tool_name_taken') : error;
    });
  }

  async delete(input: ToolScope): Promise<void> {
    const deleted = await this.dependencies.store.write((writers) => writers.agentTools.delete(key(input)));
    if (!deleted) await this.#notFound(input);
  }

  /**
   * The stored configuration as validation sees it when a PATCH leaves it alone: secrets masked,
   * which the shape checks accept like any string (the stored sealed values are what is kept).
   */
  #plainForValidation(stored: StoredAgentTool): JsonObject | null {
    return maskConfiguration(this.dependencies.box, stored.tool_type, stored.configuration);
  }

  #view(tool: StoredAgentTool): AgentToolView {
    return agentToolView(this.dependencies.box, tool);
  }

  /**
   * A tool of type mcp_server names a server of the same agent (`mcp_server_id`): its calls go
   * there. Checked on create; the sync of that server then keeps it if the server has a tool of
   * its `mcp_tool_name`, and removes it otherwise.
   */
  async #checkMcpServer(input: AgentScope & { toolType: ToolType; serverId: string | null }): Promise<void> {
    if (input.toolType !== 'mcp_server') return;
    if (input.serverId === null)
      throw validationError(
        ['body', 'mcp_server_id'],
        'A tool of type mcp_server needs the mcp_server_id of one of the agent’s MCP servers',
      );
    const server = await this.dependencies.store.mcpServers.get({
      organizationId: input.organizationId,
      agentId: input.agentId,
      id: input.serverId,
    });
    if (!server) throw validationError(['body', 'mcp_server_id'], 'The agent has no MCP server with this id');
  }

  async #requireAgent(input: AgentScope): Promise<void> {
    const agent = await this.dependencies.store.agents.get({ organizationId: input.organizationId, id: input.agentId });
    if (!agent) throw new AppError('agent_not_found');
  }

  async #requireTool(input: ToolScope): Promise<StoredAgentTool> {
    const tool = await this.dependencies.store.agentTools.get(key(input));
    return tool ?? this.#notFound(input);
  }

  /** 404 naming the first missing object: the agent (of this organisation), else the tool. */
  async #notFound(input: ToolScope): Promise<never> {
    await this.#requireAgent(input);
    throw new AppError('tool_not_found');
  }
}

/**
 * The checks every create and update passes: the configuration for the type and name, and the
 * reference ids only on the type they belong to.
 */
function checkedFields(fields: AgentToolFields & { configuration: JsonObject | null }) {
  validateToolConfiguration({
    toolType: fields.tool_type,
    toolName: fields.tool_name,
    configuration: fields.configuration,
  });
  if (fields.mcp_server_id != null && fields.tool_type !== 'mcp_server') {
    throw validationError(['body', 'mcp_server_id'], 'mcp_server_id is only for tools of type mcp_server');
  }
  if (fields.external_tool_connection_id != null && fields.tool_type !== 'external_tool') {
    throw validationError(
      ['body', 'external_tool_connection_id'],
      'external_tool_connection_id is only for tools of type external_tool',
    );
  }
  return fields;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

function key(input: ToolScope): { organizationId: string; agentId: string; id: string } {
  return { organizationId: input.organizationId, agentId: input.agentId, id: input.toolId };
}

/** A stored tool as the API shows it: secrets masked. */
export function agentToolView(box: SecretBox, tool: StoredAgentTool): AgentToolView {
  return {
    id: tool.id,
    agent_id: tool.agent_id,
    tool_name: tool.tool_name,
    tool_type: tool.tool_type,
    configuration: maskConfiguration(box, tool.tool_type, tool.configuration),
    is_enabled: tool.is_enabled,
    mcp_server_id: tool.mcp_server_id,
    external_tool_connection_id: tool.external_tool_connection_id,
    created_at: tool.created_at,
    updated_at: tool.updated_at,
  };
}
