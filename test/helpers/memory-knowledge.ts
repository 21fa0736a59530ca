import type { KnowledgeHit, KnowledgeSearch } from '../../src/knowledge/knowledge-search.js';

/**
 * A KnowledgeSearch held in memory, for tests of what calls the port (the tool, citations, the
 * stream views): passages are added per organisation and agent, a query matches the passages
 * sharing a word with it (more shared words rank higher), and every search is recorded.
 */
export class MemoryKnowledge implements KnowledgeSearch {
  readonly searches: { organizationId: string; agentId: string; query: string; limit: number }[] = [];
  readonly #passages: { organizationId: string; agentId: string; hit: KnowledgeHit }[] = [];

  add(input: {
    organizationId: string;
    agentId: string;
    hit: Partial<KnowledgeHit> & { chunkId: string };
  }): KnowledgeHit {
    const hit: KnowledgeHit = {
      fileId: `file-of-${input.hit.chunkId}`,
      fileName: 'handbook.md',
      text: `Passage ${input.hit.chunkId}.`,
      headingPath: [],
      page: null,
      url: null,
      title: null,
      similarity: 0.5,
      ...input.hit,
    };
    this.#passages.push({ organizationId: input.organizationId, agentId: input.agentId, hit });
    return hit;
  }

  async search(input: {
    organizationId: string;
    agentId: string;
    query: string;
    limit: number;
  }): Promise<KnowledgeHit[]> {
    this.searches.push({ ...input });
    const words = new Set(wordsOf(input.query));
    return this.#passages
      .filter((entry) => entry.organizationId === input.organizationId && entry.agentId === input.agentId)
      .map((entry) => ({ hit: entry.hit, shared: wordsOf(entry.hit.text).filter((word) => words.has(word)).length }))
      .filter((entry) => entry.shared > 0)
      .sort((a, b) => b.shared - a.shared)
      .slice(0, input.limit)
      .map((entry) => entry.hit);
  }
}

function wordsOf(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}
