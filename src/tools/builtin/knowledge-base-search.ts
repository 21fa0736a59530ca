import type { Tool } from '../tool.js';

/**
 * Registered now so agents can be configured with it; it answers once agent knowledge (files and
 * URLs) lands. Until then every call is a clear error result for the model, never a failed run.
 */
export function knowledgeBaseSearchTool(configuration: { max_results?: number; include_metadata?: boolean }): Tool {
  return {
    name: 'knowledge_base_search',
    description: `Searches the agent's knowledge files for passages relevant to a query (at most ${configuration.max_results ?? 5} results).`,
    inputSchema: KNOWLEDGE_BASE_SEARCH_INPUT,
    async execute() {
      throw new Error('knowledge_base_search is not available yet: agent knowledge files arrive with a later release');
    },
  };
}

const KNOWLEDGE_BASE_SEARCH_INPUT = {
  type: 'object',
  properties: { query: { type: 'string', minLength: 1, maxLength: 1000, description: 'What to look for.' } },
  required: ['query'],
  additionalProperties: false,
};
