import type { Store } from '../storage/store.js';
import { decodeEmbedding, normalized } from './embeddings-codec.js';

/** One ready generation of a file, decoded: unit vectors laid end to end. */
interface CachedGeneration {
  readonly generation: number;
  readonly chunkIds: readonly string[];
  readonly dimensions: number;
  readonly vectors: Float32Array;
}

/**
 * Cosine similarity over an agent's ready chunks (docs/knowledge-search.md, "Embeddings"). The
 * decoded vectors are cached in the process per agent, keyed by (file, generation): a search reads
 * the agent's ready generations (one small indexed query) and decodes only what changed since, so
 * a re-index elsewhere (another process) is seen at the next search, and nothing stale is scored.
 * At most `maxAgents` agents are kept, the least recently searched dropped first.
 */
export class EmbeddingIndex {
  readonly #store: Store;
  readonly #maxAgents: number;
  readonly #agents = new Map<string, Map<string, CachedGeneration>>();

  constructor(input: { store: Store; maxAgents?: number }) {
    this.#store = input.store;
    this.#maxAgents = input.maxAgents ?? 64;
  }

  /** The `limit` chunks nearest `query`, best first (ties by chunk id), similarity = cosine. */
  async nearest(input: {
    organizationId: string;
    agentId: string;
    query: Float32Array;
    limit: number;
  }): Promise<{ chunkId: string; similarity: number }[]> {
    const files = await this.#filesOf(input);
    const query = normalized(input.query);
    const best: { chunkId: string; similarity: number }[] = [];
    for (const file of files) {
      // Vectors of another size come from another model: the file awaits re-indexing.
      if (file.dimensions !== query.length) continue;
      for (let row = 0; row < file.chunkIds.length; row += 1) {
        const similarity = dot(query, file.vectors, row * file.dimensions);
        if (best.length === input.limit && similarity < best[best.length - 1]!.similarity) continue;
        insertRanked(best, { chunkId: file.chunkIds[row]!, similarity }, input.limit);
      }
    }
    return best;
  }

  async #filesOf(input: { organizationId: string; agentId: string }): Promise<CachedGeneration[]> {
    const key = `${input.organizationId}/${input.agentId}`;
    const cached = this.#agents.get(key) ?? new Map<string, CachedGeneration>();
    this.#agents.delete(key);
    this.#agents.set(key, cached);
    if (this.#agents.size > this.#maxAgents) this.#agents.delete(this.#agents.keys().next().value!);

    const ready = await this.#store.fileChunks.readyGenerations(input);
    const readyIds = new Set(ready.map((file) => file.fileId));
    for (const fileId of cached.keys()) if (!readyIds.has(fileId)) cached.delete(fileId);
    for (const { fileId, generation } of ready) {
      if (cached.get(fileId)?.generation === generation) continue;
      const rows = await this.#store.fileChunks.embeddings({
        organizationId: input.organizationId,
        fileId,
        generation,
      });
      cached.set(fileId, decodeGeneration(generation, rows));
    }
    return [...cached.values()];
  }
}

function decodeGeneration(generation: number, rows: readonly { chunkId: string; embedding: Uint8Array }[]) {
  const dimensions = rows[0] === undefined ? 0 : rows[0].embedding.byteLength / 4;
  const usable = rows.filter((row) => row.embedding.byteLength === dimensions * 4);
  const vectors = new Float32Array(usable.length * dimensions);
  usable.forEach((row, index) => vectors.set(normalized(decodeEmbedding(row.embedding)), index * dimensions));
  return { generation, chunkIds: usable.map((row) => row.chunkId), dimensions, vectors };
}

function dot(query: Float32Array, vectors: Float32Array, offset: number): number {
  let sum = 0;
  for (let index = 0; index < query.length; index += 1) sum += query[index]! * vectors[offset + index]!;
  return sum;
}

function insertRanked(
  best: { chunkId: string; similarity: number }[],
  candidate: { chunkId: string; similarity: number },
  limit: number,
): void {
  let position = best.length;
  while (position > 0 && outranks(candidate, best[position - 1]!)) position -= 1;
  best.splice(position, 0, candidate);
  if (best.length > limit) best.pop();
}

function outranks(left: { chunkId: string; similarity: number }, right: { chunkId: string; similarity: number }) {
  return left.similarity > right.similarity || (left.similarity === right.similarity && left.chunkId < right.chunkId);
}
