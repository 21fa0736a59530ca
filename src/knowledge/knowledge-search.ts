/**
 * Searching one agent's knowledge (docs/knowledge.md): what the search route and the
 * `knowledge_base_search` tool call. Only the ready generation of `ready` files is searched, and
 * only the given agent's, in the given organisation.
 */
export interface KnowledgeSearch {
  search(input: { organizationId: string; agentId: string; query: string; limit: number }): Promise<KnowledgeHit[]>;
}

export interface KnowledgeHit {
  readonly fileId: string;
  /** The file's display name (its sanitised label, or the URL it was added by). */
  readonly fileName: string;
  readonly chunkId: string;
  readonly text: string;
  readonly headingPath: readonly string[];
  readonly page: number | null;
  /** The page a crawled chunk came from; null for uploads. */
  readonly url: string | null;
  /** The crawled page's title; null for uploads. */
  readonly title: string | null;
  /** 0..1, higher is more relevant; how it is computed is documented in docs/knowledge.md. */
  readonly similarity: number;
}
