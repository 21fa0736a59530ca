import type { StoredAgentTool } from '../../domain/agent-tools.js';
import type { Agent, JsonObject } from '../../domain/models.js';
import type { SecretBox } from '../../security/secret-box.js';
import type { OutboundClient } from '../../outbound/outbound-client.js';
import type { Store } from '../../storage/store.js';
import { UNDECLARED_REASON, type StoredMcpServer } from '../../domain/mcp-servers.js';
import type { McpConnectionPool } from '../../mcp/mcp-connection-pool.js';
import { mcpTool } from '../../mcp/mcp-tool.js';
import { openAuthConfig } from '../mcp/mcp-secrets.js';
import { builtInTool, type BuiltInServices } from '../../tools/builtin/index.js';
import type { KnowledgeSearch } from '../../knowledge/knowledge-search.js';
import { ClientCredentialsTokens } from '../../tools/external/external-call.js';
import { externalTool } from '../../tools/external-tool.js';
import type { Tool } from '../../tools/tool.js';
import type { ToolResolver } from '../../tools/tool-resolver.js';
import { openConfiguration } from './tool-secrets.js';

/** How many distinct input schemas are kept as shared objects (see `#inputSchema`). */
const INPUT_SCHEMA_CACHE_SIZE = 1000;

/**
 * The tools of one agent for one run: its enabled stored tools (the agent-tools API), in the
 * order they were added, then the names in its `configuration.tools` that no stored tool has —
 * read as built-in tools with their default configuration (or from the catalogue the app was
 * given). A stored tool of the same name wins even when disabled: disabling it turns the name off.
 * An enabled MCP tool (`mcp_server`) calls its server over the app's connection pool; one whose
 * server is gone, or is a stdio server MCP_SERVERS_FILE no longer declares, is left out.
 */
export class StoredToolResolver implements ToolResolver {
  readonly #inputSchemas = new Map<string, JsonObject>();
  /** OAuth client-credentials tokens of this process's external tools (one per grant). */
  readonly #tokens = new ClientCredentialsTokens();

  constructor(
    private readonly dependencies: {
      store: Store;
      box: SecretBox;
      catalog: ReadonlyMap<string, Tool>;
      outbound: OutboundClient;
      /** Where MCP tools are called; without it they are left out. */
      mcpPool?: McpConnectionPool | undefined;
      /** What `knowledge_base_search` searches; without it its calls are error results. */
      knowledge?: KnowledgeSearch | undefined;
    },
  ) {}

  async resolve(input: { organizationId: string; agent: Agent }): Promise<Tool[]> {
    const stored = await this.dependencies.store.agentTools.list({
      organizationId: input.organizationId,
      agentId: input.agent.id,
    });
    const enabled = stored.filter((tool) => tool.is_enabled);
    const servers = enabled.some((tool) => tool.tool_type === 'mcp_server')
      ? new Map(
          (
            await this.dependencies.store.mcpServers.list({
              organizationId: input.organizationId,
              agentId: input.agent.id,
            })
          ).map((server) => [server.id, server]),
        )
      : new Map<string, StoredMcpServer>();
    // Built-in tools are built for this run: the knowledge tool searches this agent's files only.
    const services = {
      outbound: this.dependencies.outbound,
      knowledge: this.dependencies.knowledge,
      scope: { organizationId: input.organizationId, agentId: input.agent.id },
    };
    const tools = enabled.flatMap((tool) => this.#toTool(tool, { servers, services }) ?? []);
    const storedNames = new Set(stored.map((tool) => tool.tool_name));
    const legacyNames = Array.isArray(input.agent.configuration.tools) ? input.agent.configuration.tools : [];
    for (const name of new Set(legacyNames)) {
      if (typeof name !== 'string' || storedNames.has(name)) continue;
      const tool = this.dependencies.catalog.get(name) ?? builtInTool(name, {}, services);
      if (tool) tools.push(tool);
    }
    return tools;
  }

  #toTool(
    stored: StoredAgentTool,
    run: { servers: ReadonlyMap<string, StoredMcpServer>; services: BuiltInServices },
  ): Tool | undefined {
    const { servers, services } = run;
    const configuration = stored.configuration ?? {};
    if (stored.tool_type === 'built_in') return builtInTool(stored.tool_name, configuration, services);
    if (stored.tool_type === 'mcp_server') {
      const server = stored.mcp_server_id === null ? undefined : servers.get(stored.mcp_server_id);
      const pool = this.dependencies.mcpPool;
      if (!server || !pool || server.status_reason === UNDECLARED_REASON) return undefined;
      return mcpTool({
        name: stored.tool_name,
        configuration: {
          ...configuration,
          input_schema: this.#inputSchema((configuration.input_schema ?? { type: 'object' }) as JsonObject),
        },
        server: {
          organizationId: server.organization_id,
          serverId: server.id,
          url: server.url,
          authConfig: openAuthConfig(this.dependencies.box, server.auth_config),
        },
        pool,
      });
    }
    if (stored.tool_type !== 'external_tool') return undefined;
    const { box } = this.dependencies;
    return externalTool({
      name: stored.tool_name,
      configuration,
      inputSchema: this.#inputSchema(configuration.input_schema as JsonObject),
      openSecrets: () => openConfiguration(box, stored.tool_type, configuration) ?? {},
      outbound: this.dependencies.outbound,
      tokens: this.#tokens,
    });
  }

  /**
   * One object per distinct schema: the tool runner compiles a validator per schema object, so
   * the same schema in every run of an agent must be the same object. Bounded: past the size the
   * oldest entry goes (its tool then compiles once more).
   */
  #inputSchema(schema: JsonObject): JsonObject {
    const text = JSON.stringify(schema);
    const known = this.#inputSchemas.get(text);
    if (known) return known;
    if (this.#inputSchemas.size >= INPUT_SCHEMA_CACHE_SIZE) {
      this.#inputSchemas.delete(this.#inputSchemas.keys().next().value!);
    }
    this.#inputSchemas.set(text, schema);
    return schema;
  }
}
