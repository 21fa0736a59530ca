import type { JsonObject } from '../../domain/models.js';
import type { OutboundRequester } from '../external/external-call.js';
import type { Tool } from '../tool.js';
import { calculatorTool } from './calculator.js';
import { currentTimeTool, currentTimeToolWith } from './current-time.js';
import { httpRequestTool } from './http-request.js';
import {
  knowledgeBaseSearchTool,
  type KnowledgeScope,
  type KnowledgeToolConfiguration,
} from './knowledge-base-search.js';
import type { KnowledgeSearch } from '../../knowledge/knowledge-search.js';

/** Built-in tools, attached to an agent by name in `configuration.tools`. */
export const BUILTIN_TOOLS: ReadonlyMap<string, Tool> = new Map(
  [currentTimeTool, calculatorTool].map((tool) => [tool.name, tool]),
);

/**
 * What built-in tools call: the guarded outbound client, and for `knowledge_base_search` the
 * app's knowledge search (none: its calls are error results) with the agent it is built for.
 */
export interface BuiltInServices {
  outbound: OutboundRequester;
  knowledge?: KnowledgeSearch | undefined;
  /** The run's own agent; without it there is no `knowledge_base_search` (nothing to search). */
  scope?: KnowledgeScope | undefined;
}

/**
 * The built-in tool `name` with its stored `configuration` (already validated by the API), or
 * undefined for a name that is no built-in.
 */
export function builtInTool(name: string, configuration: JsonObject, services: BuiltInServices): Tool | undefined {
  switch (name) {
    case 'current_time':
      return typeof configuration.timezone === 'string' ? currentTimeToolWith(configuration.timezone) : currentTimeTool;
    case 'calculator':
      return calculatorTool;
    case 'http_request':
      return httpRequestTool(configuration as { allowed_methods?: string[]; timeout_ms?: number }, services.outbound);
    case 'knowledge_base_search':
      if (!services.scope) return undefined;
      return knowledgeBaseSearchTool({
        configuration: configuration as KnowledgeToolConfiguration,
        knowledge: services.knowledge,
        scope: services.scope,
      });
    default:
      return undefined;
  }
}
