/**
 * One passage a knowledge search found (src/knowledge/knowledge-search.ts): a domain type, so the
 * chunks store can answer with it without importing the knowledge module above it.
 */
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
