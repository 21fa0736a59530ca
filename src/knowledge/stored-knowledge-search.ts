import type { FastifyBaseLogger } from 'fastify';
import type { KnowledgeChunk } from '../storage/kysely/file-chunks-store.js';
import type { Store } from '../storage/store.js';
import { EmbeddingIndex } from './embedding-index.js';
import type { EmbeddingModel } from './embeddings.js';
import type { KnowledgeHit, KnowledgeSearch } from './knowledge-search.js';
import { weightedQueryTerms } from './query-synonyms.js';
import { queryTerms } from './query-terms.js';
import { fuseRanks } from './rank-fusion.js';

/**
 * Candidates each list gives fusion. Reciprocal-rank fusion needs lists deeper than the answer
 * (a chunk fifth in both lists should beat one first in one and absent from the other), and 50
 * is above the route's largest `limit` (20) with room.
 */
const FUSION_DEPTH = 50;

/**
 * Hybrid search over the chunk index (docs/knowledge-search.md). Full text alone (BM25 / cover
 * density over the OR of the query's terms) without an embedding model; with one, the full-text
 * list and the cosine-nearest list fused by reciprocal rank. A failing embedding provider at
 * search time degrades to full text, logged once per failed search: never an empty answer or an
 * error because of it.
 */
export class StoredKnowledgeSearch implements KnowledgeSearch {
  readonly #store: Store;
  readonly #embeddings: EmbeddingModel | null;
  readonly #index: EmbeddingIndex;
  readonly #logger: Pick<FastifyBaseLogger, 'warn'> | null;

  constructor(dependencies: {
    store: Store;
    embeddings: EmbeddingModel | null;
    logger?: Pick<FastifyBaseLogger, 'warn'>;
  }) {
    this.#store = dependencies.store;
    this.#embeddings = dependencies.embeddings;
    this.#index = new EmbeddingIndex({ store: dependencies.store });
    this.#logger = dependencies.logger ?? null;
  }

  async search(input: {
    organizationId: string;
    agentId: string;
    query: string;
    limit: number;
  }): Promise<KnowledgeHit[]> {
    const asked = queryTerms(input.query);
    // A query of stop words and punctuation only asks nothing, with or without embeddings.
    if (asked.length === 0) return [];
    const weighted = weightedQueryTerms(asked);
    const scope = { organizationId: input.organizationId, agentId: input.agentId };
    if (this.#embeddings === null) {
      const matches = await this.#store.fileChunks.fullText({ ...scope, ...weighted, limit: input.limit });
      return matches.map(({ chunk, score }) => ({ ...chunk, similarity: score }));
    }
    return this.#hybrid({ ...input, ...weighted, embeddings: this.#embeddings });
  }

  async #hybrid(input: {
    organizationId: string;
    agentId: string;
    query: string;
    limit: number;
    terms: string[];
    weights: number[];
    embeddings: EmbeddingModel;
  }): Promise<KnowledgeHit[]> {
    const scope = { organizationId: input.organizationId, agentId: input.agentId };
    const { terms, weights } = input;
    const fullText = await this.#store.fileChunks.fullText({ ...scope, terms, weights, limit: FUSION_DEPTH });
    const nearest = await this.#nearest({ ...scope, query: input.query, embeddings: input.embeddings });
    if (nearest === null) {
      return fullText.slice(0, input.limit).map(({ chunk, score }) => ({ ...chunk, similarity: score }));
    }
    // The embedding list first: fusion's ties go to it, as it sees paraphrases that share no word
    // with their answer (measured on the committed corpus: one more question's chunk first).
    const fused = fuseRanks([nearest, fullText.map(({ chunk }) => chunk.chunkId)]).slice(0, input.limit);
    const known = new Map<string, KnowledgeChunk>(fullText.map(({ chunk }) => [chunk.chunkId, chunk]));
    const missing = fused.map(({ id }) => id).filter((id) => !known.has(id));
    for (const chunk of await this.#store.fileChunks.chunks({ ...scope, ids: missing }))
      known.set(chunk.chunkId, chunk);
    // A chunk re-indexed away between the two reads is simply left out.
    return fused.flatMap(({ id, similarity }) => {
      const chunk = known.get(id);
      return chunk ? [{ ...chunk, similarity }] : [];
    });
  }

  /** The nearest chunk ids, or null when the provider failed (logged; the caller falls back to full text). */
  async #nearest(input: {
    organizationId: string;
    agentId: string;
    query: string;
    embeddings: EmbeddingModel;
  }): Promise<string[] | null> {
    let vector: Float32Array | undefined;
    try {
      [vector] = await input.embeddings.embed([input.query]);
    } catch (error) {
      this.#logger?.warn(
        { err: error, embeddingModel: input.embeddings.id },
        'knowledge search: the embedding provider failed; answering from full text only',
      );
      return null;
    }
    if (vector === undefined) return null;
    const nearest = await this.#index.nearest({ ...input, query: vector, limit: FUSION_DEPTH });
    return nearest.map(({ chunkId }) => chunkId);
  }
}
