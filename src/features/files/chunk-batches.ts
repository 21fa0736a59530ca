import type { Clock, IdGenerator } from '../../ids.js';
import { chunkRows } from '../../knowledge/chunk-rows.js';
import type { DocumentChunk } from '../../knowledge/document.js';
import type { EmbeddingModel } from '../../knowledge/embeddings.js';
import type { Store } from '../../storage/store.js';

/**
 * Chunks per write while indexing: each batch is embedded (when a model is configured) and
 * inserted in a transaction of its own, so a 300-page PDF never holds the SQLite writer for long
 * nor keeps all its rows in memory at once.
 */
const CHUNKS_PER_BATCH = 256;

/**
 * Writes one attempt's chunks under its generation (invisible to search until the file's
 * `ready_generation` becomes it), numbering them across the calls.
 */
export class ChunkBatches {
  #ordinal = 0;

  constructor(
    private readonly input: {
      store: Store;
      clock: Clock;
      newId: IdGenerator;
      embeddings: EmbeddingModel | null;
      organizationId: string;
      agentId: string;
      fileId: string;
      generation: number;
      signal: AbortSignal;
    },
  ) {}

  /** How many chunks were written so far. */
  get count(): number {
    return this.#ordinal;
  }

  async write(chunks: readonly DocumentChunk[], source: { url: string | null; title: string | null }): Promise<void> {
    const { store, signal } = this.input;
    for (let start = 0; start < chunks.length; start += CHUNKS_PER_BATCH) {
      signal.throwIfAborted();
      const batch = chunks.slice(start, start + CHUNKS_PER_BATCH);
      const rows = await chunkRows({
        organizationId: this.input.organizationId,
        agentId: this.input.agentId,
        fileId: this.input.fileId,
        generation: this.input.generation,
        firstOrdinal: this.#ordinal,
        chunks: batch,
        url: source.url,
        title: source.title,
        embeddings: this.input.embeddings,
        signal,
        newId: this.input.newId,
        now: this.input.clock.now(),
      });
      await store.write((writers) => writers.fileChunks.insertMany(rows));
      this.#ordinal += batch.length;
    }
  }
}
