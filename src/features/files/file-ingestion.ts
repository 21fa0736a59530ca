import type { KnowledgeConfig } from '../../config-knowledge.js';
import type { StoredAgentFile } from '../../domain/agent-files.js';
import type { Clock, IdGenerator } from '../../ids.js';
import type { Job } from '../../domain/jobs.js';
import type { JobContext, JobHandler, JobOutcome } from '../../jobs/job-handler.js';
import { chunkDocument } from '../../knowledge/chunk.js';
import { ExtractionError } from '../../knowledge/document.js';
import type { EmbeddingModel } from '../../knowledge/embeddings.js';
import type { DocumentExtractor } from '../../knowledge/extract/document-extractor.js';
import type { FileStorage } from '../../knowledge/file-storage.js';
import { FileTypeRefused } from '../../knowledge/file-type.js';
import { ModelError } from '../../models/model-port.js';
import type { OutboundClient } from '../../outbound/outbound-client.js';
import type { Store, StoreWriters } from '../../storage/store.js';
import { ChunkBatches } from './chunk-batches.js';
import { FILE_INGESTION, emptyProgress, type IngestionProgress } from './ingestion-progress.js';
import { crawlIntoIndex, IngestionFailure, type IndexedContent } from './url-ingestion.js';

export interface FileIngestionDependencies {
  store: Store;
  clock: Clock;
  newId: IdGenerator;
  storage: FileStorage;
  extractor: DocumentExtractor;
  embeddings: EmbeddingModel | null;
  outbound: OutboundClient;
  config: KnowledgeConfig;
}

/**
 * The `file_ingestion` job (docs/knowledge.md, "Lifecycle"): an upload is extracted (in a worker
 * thread, with caps), chunked and indexed; a URL is crawled and each page indexed. Chunks are
 * written under a new generation, and the transaction that ends the job makes it the file's
 * ready one (deleting the others) — or marks the file failed with the reason. A file never
 * becomes ready without chunks.
 */
export class FileIngestionHandler implements JobHandler {
  readonly kind = FILE_INGESTION;

  constructor(private readonly dependencies: FileIngestionDependencies) {}

  async run(job: Job, context: JobContext): Promise<JobOutcome> {
    const { store, clock } = this.dependencies;
    const scope = { organizationId: job.organization_id, id: job.subject_id };
    const file = await store.write(async (writers) => {
      const started = await writers.agentFiles.beginBuild({ ...scope, now: clock.now().toISOString() });
      // Chunks of earlier attempts that never became ready (a process killed while indexing).
      if (started) await this.#keepOnlyReady(writers, started);
      return started;
    });
    // The file was deleted (its job row with it): nothing to do, and nothing will be recorded.
    if (!file) return { status: 'failed', errorMessage: 'the file no longer exists' };
    try {
      const content = await this.#index(file, context);
      return this.#ready(file, content);
    } catch (error) {
      const reason = context.signal.aborted ? null : failureReason(error);
      if (reason === null) throw error;
      return this.#failed(file, reason);
    }
  }

  async onGiveUp(input: { job: Job; writers: StoreWriters; now: string }): Promise<string> {
    const { job, writers, now } = input;
    const reason =
      job.error_reason === 'error'
        ? `indexing failed ${job.attempts} times with an internal error`
        : job.error_reason === 'timeout'
          ? `indexing timed out ${job.attempts} times`
          : `indexing was interrupted ${job.attempts} times`;
    const file = await writers.agentFiles.find({ organizationId: job.organization_id, id: job.subject_id });
    if (file) {
      await writers.agentFiles.markFailed({ organizationId: job.organization_id, id: file.id, message: reason, now });
      await this.#keepOnlyReady(writers, file);
    }
    return reason;
  }

  async #index(file: StoredAgentFile, context: JobContext): Promise<IndexedContent> {
    const { dependencies } = this;
    const batches = new ChunkBatches({
      ...dependencies,
      organizationId: file.organization_id,
      agentId: file.agent_id,
      fileId: file.id,
      generation: file.building_generation,
      signal: context.signal,
    });
    if (file.source === 'url') return crawlIntoIndex({ ...dependencies, file, batches, context });
    const document = await dependencies.extractor.extract(
      { kind: file.kind as never, path: dependencies.storage.pathOf(file.storage_key!) },
      context.signal,
    );
    const chunks = chunkDocument(document, dependencies.config.chunking);
    if (chunks.length === 0) throw new IngestionFailure('no text could be extracted from the file');
    await batches.write(chunks, { url: null, title: null });
    const textBytes = document.sections.reduce((sum, section) => sum + Buffer.byteLength(section.text), 0);
    const progress: IngestionProgress = { ...emptyProgress(), chunks: batches.count };
    return { chunkCount: batches.count, textBytes, metadata: { page_count: document.pageCount }, progress };
  }

  #ready(file: StoredAgentFile, content: IndexedContent): JobOutcome {
    const { clock } = this.dependencies;
    return {
      status: 'succeeded',
      errorMessage: null,
      progress: content.progress,
      commit: async (writers) => {
        const switched = await writers.agentFiles.finishReady({
          organizationId: file.organization_id,
          id: file.id,
          generation: file.building_generation,
          chunkCount: content.chunkCount,
          textBytes: content.textBytes,
          metadata: content.metadata,
          size: content.size,
          now: clock.now().toISOString(),
        });
        if (switched) {
          await writers.fileChunks.deleteGenerationsExcept({
            organizationId: file.organization_id,
            fileId: file.id,
            keep: file.building_generation,
          });
        }
      },
    };
  }

  #failed(file: StoredAgentFile, failure: { message: string; content?: IndexedContent | undefined }): JobOutcome {
    const { clock } = this.dependencies;
    return {
      status: 'failed',
      errorMessage: failure.message,
      progress: failure.content?.progress,
      commit: async (writers) => {
        await writers.agentFiles.markFailed({
          organizationId: file.organization_id,
          id: file.id,
          message: failure.message,
          metadata: failure.content?.metadata,
          now: clock.now().toISOString(),
        });
        await this.#keepOnlyReady(writers, file);
      },
    };
  }

  #keepOnlyReady(writers: StoreWriters, file: StoredAgentFile): Promise<number> {
    return writers.fileChunks.deleteGenerationsExcept({
      organizationId: file.organization_id,
      fileId: file.id,
      keep: file.ready_generation,
    });
  }
}

/**
 * The reason a user reads for an attempt that failed for a cause in the file or its source (the
 * file's `error_message`), or null for an unexpected error (retried, and logged in full).
 */
function failureReason(error: unknown): { message: string; content?: IndexedContent | undefined } | null {
  if (error instanceof IngestionFailure) return { message: error.message, content: error.content };
  if (error instanceof ExtractionError || error instanceof FileTypeRefused) return { message: error.message };
  if (error instanceof ModelError) return { message: `the embedding model failed: ${error.message}` };
  return null;
}
