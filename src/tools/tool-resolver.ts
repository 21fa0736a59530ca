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
