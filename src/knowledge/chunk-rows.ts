import type { NewFileChunk } from '../storage/kysely/schema.js';
import type { DocumentChunk } from './document.js';
import type { EmbeddingModel } from './embeddings.js';
import { encodeEmbedding } from './embeddings-codec.js';

export type { NewFileChunk } from '../storage/kysely/schema.js';

/**
 * The rows for one document (an upload) or one page (a crawl) of a file's `generation`, numbered
 * from `firstOrdinal`, with their embeddings when a model is configured. An embedding failure
 * propagates: the ingestion job fails with its reason rather than indexing a file half-embedded.
 */
export async function chunkRows(input: {
  organizationId: string;
  agentId: string;
  fileId: string;
  generation: number;
  firstOrdinal: number;
  chunks: readonly DocumentChunk[];
  url: string | null;
  title: string | null;
  embeddings: EmbeddingModel | null;
  signal?: AbortSignal;
  newId: () => string;
  now: Date;
}): Promise<NewFileChunk[]> {
  const vectors = input.embeddings
    ? await input.embeddings.embed(
        input.chunks.map((chunk) => embeddingInput({ chunk, title: input.title })),
        input.signal,
      )
    : null;
  const createdAt = input.now.toISOString();
  return input.chunks.map((chunk, index) => {
    const vector = vectors?.[index];
    return {
      id: input.newId(),
      organization_id: input.organizationId,
      agent_id: input.agentId,
      file_id: input.fileId,
      generation: input.generation,
      ordinal: input.firstOrdinal + index,
      text: chunk.text,
      heading_path: JSON.stringify(chunk.headingPath),
      page: chunk.page,
      url: input.url,
      title: input.title,
      token_count: chunk.tokenCount,
      embedding: vector === undefined ? null : encodeEmbedding(vector),
      created_at: createdAt,
    };
  });
}

/**
 * What is embedded for a chunk: the page title and heading path, then the passage, so a passage
 * whose section heading carries the topic ("Parental leave" over "Sixteen weeks, paid.") is
 * found by a question about the topic. The stored text stays the passage alone.
 */
export function embeddingInput(input: { chunk: DocumentChunk; title: string | null }): string {
  const context = [...(input.title === null ? [] : [input.title]), ...input.chunk.headingPath];
  return context.length === 0 ? input.chunk.text : `${context.join(' > ')}\n\n${input.chunk.text}`;
}
