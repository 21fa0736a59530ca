import type { Readable } from 'node:stream';
import { withoutStorage, type AgentFile } from '../../domain/agent-files.js';
import { AppError } from '../../errors.js';
import type { FileStorage } from '../../knowledge/file-storage.js';
import type { KnowledgeSearch } from '../../knowledge/knowledge-search.js';
import type { Store } from '../../storage/store.js';
import { jobView } from './ingestion-progress.js';

export interface FileScope {
  organizationId: string;
  agentId: string;
}

export interface FileRef extends FileScope {
  fileId: string;
}

export interface FilesServiceDependencies {
  store: Store;
  storage: FileStorage;
  search: KnowledgeSearch;
  /** Stops this process's running job of a deleted file at once (other processes lose its lease). */
  cancelJob: (jobId: string) => void;
}

/** Reading, downloading, searching and deleting an agent's knowledge files (docs/knowledge.md). */
export class FilesService {
  constructor(private readonly dependencies: FilesServiceDependencies) {}

  async list(input: FileScope & { page: number; pageSize: number }) {
    const { store } = this.dependencies;
    await this.#requireAgent(input);
    const { page, pageSize } = input;
    const [files, total] = await Promise.all([
      store.agentFiles.list({ ...input, limit: pageSize, offset: (page - 1) * pageSize }),
      store.agentFiles.count(input),
    ]);
    return { files, total_count: total, page, page_size: pageSize, has_more: page * pageSize < total };
  }

  async require(input: FileRef): Promise<AgentFile> {
    await this.#requireAgent(input);
    const file = await this.dependencies.store.agentFiles.get({ ...input, id: input.fileId });
    if (!file) throw new AppError('file_not_found');
    return withoutStorage(file);
  }

  /** The stored bytes of an upload, with what the download's headers need. */
  async content(input: FileRef): Promise<{ file: AgentFile; stream: Readable }> {
    await this.#requireAgent(input);
    const file = await this.dependencies.store.agentFiles.get({ ...input, id: input.fileId });
    if (!file) throw new AppError('file_not_found');
    if (file.storage_key === null) throw new AppError('file_has_no_content');
    const stream = this.dependencies.storage.open(file.storage_key);
    // A row always has its bytes (file-storage.ts); a missing file is a fault, answered 500.
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    return { file: withoutStorage(file), stream };
  }

  /**
   * Deletes the file, its chunks and their index entries (cascade) and its jobs in one commit,
   * then its bytes; its running job stops.
   */
  async delete(input: FileRef): Promise<void> {
    await this.#requireAgent(input);
    const { store, storage } = this.dependencies;
    const deleted = await store.write(async (writers) => {
      const job = await writers.jobs.active({ organizationId: input.organizationId, subjectId: input.fileId });
      const removed = await writers.agentFiles.delete({ ...input, id: input.fileId });
      if (!removed) return undefined;
      await writers.jobs.deleteForSubjects({ organizationId: input.organizationId, subjectIds: [input.fileId] });
      return { ...removed, jobId: job?.id ?? null };
    });
    if (!deleted) throw new AppError('file_not_found');
    if (deleted.jobId) this.dependencies.cancelJob(deleted.jobId);
    if (deleted.storageKey) await storage.remove(deleted.storageKey);
  }

  async job(input: FileScope & { jobId: string }) {
    const { store } = this.dependencies;
    await this.#requireAgent(input);
    const job = await store.jobs.get({ organizationId: input.organizationId, id: input.jobId });
    // A job is shown under the agent whose file it works on, and nowhere else.
    const file = job ? await store.agentFiles.get({ ...input, id: job.subject_id }) : null;
    if (!job || !file) throw new AppError('job_not_found');
    return jobView(job);
  }

  /** The agent's ready files' best passages for `query`, each with its file. */
  async search(input: FileScope & { query: string; limit: number }) {
    const { store, search } = this.dependencies;
    await this.#requireAgent(input);
    const hits = await search.search(input);
    const files = await store.agentFiles.withIds({ ...input, ids: [...new Set(hits.map((hit) => hit.fileId))] });
    const byId = new Map(files.map((file) => [file.id, file]));
    // A file deleted between the two reads drops out of the answer.
    return hits.flatMap((hit) => {
      const file = byId.get(hit.fileId);
      return file ? [{ file, chunk_text: hit.text, similarity: hit.similarity }] : [];
    });
  }

  async #requireAgent(input: FileScope): Promise<void> {
    const agent = await this.dependencies.store.agents.get({ organizationId: input.organizationId, id: input.agentId });
    if (!agent) throw new AppError('agent_not_found');
  }
}
