import type { KnowledgeHit } from '../domain/knowledge-hits.js';

export type { KnowledgeHit } from '../domain/knowledge-hits.js';

/**
 * Searching one agent's knowledge (docs/knowledge.md): what the search route and the
 * `knowledge_base_search` tool call. Only the ready generation of `ready` files is searched, and
 * only the given agent's, in the given organisation.
 */
export interface KnowledgeSearch {
  search(input: { organizationId: string; agentId: string; query: string; limit: number }): Promise<KnowledgeHit[]>;
}
