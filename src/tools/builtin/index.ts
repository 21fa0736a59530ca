import type { JsonObject } from '../../domain/models.js';
import type { OutboundRequester } from '../external/external-call.js';
import type { Tool } from '../tool.js';
import { calculatorTool } from './calculator.js';
import { currentTimeTool, currentTimeToolWith } from './current-time.js';
import { httpRequestTool } from './http-request.js';
import { knowledgeBaseSearchTool } from './knowledge-base-search.js';

/** Built-in tools, attached to an agent by name in `configuration.tools`. */
export const BUILTIN_TOOLS: ReadonlyMap<string, Tool> = new Map(
  [currentTimeTool, calculatorTool].map((tool) => [tool.name, tool]),
);

/**
 * The built-in tool `name` with its stored `configuration` (already validated by the API), or
 * undefined for a name that is no built-in.
 */
export function builtInTool(
  name: string,
  configuration: JsonObject,
  services: { outbound: OutboundRequester },
): Tool | undefined {
  switch (name) {
    case 'current_time':
      return typeof configuration.timezone === 'string' ? currentTimeToolWith(configuration.timezone) : currentTimeTool;
    case 'calculator':
      return calculatorTool;
    case 'http_request':
      return httpRequestTool(configuration as { allowed_methods?: string[]; timeout_ms?: number }, services.outbound);
    case 'knowledge_base_search':
      return knowledgeBaseSearchTool(configuration as { max_results?: number });
    default:
      return undefined;
  }
}
