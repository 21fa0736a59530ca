import type { Agent } from '../domain/models.js';
import type { Tool } from './tool.js';

/**
 * Finds the tools one agent may call in one run. Asynchronous and per organisation, so tools
 * defined in the database, MCP servers' tools and knowledge search can be resolved the same way
 * as the built-ins; the runtime never sees where a tool comes from.
 */
export interface ToolResolver {
  resolve(input: { organizationId: string; agent: Agent }): Promise<Tool[]>;
}

/** Tools from a fixed catalogue (the built-ins), attached by name in `configuration.tools`. */
export class CatalogToolResolver implements ToolResolver {
  constructor(private readonly catalog: ReadonlyMap<string, Tool>) {}

  async resolve(input: { agent: Agent }): Promise<Tool[]> {
    const names = Array.isArray(input.agent.configuration.tools) ? input.agent.configuration.tools : [];
    return names.flatMap((name) => {
      const tool = typeof name === 'string' ? this.catalog.get(name) : undefined;
      return tool ? [tool] : [];
    });
  }
}
