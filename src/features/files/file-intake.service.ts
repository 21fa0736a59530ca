import type { FastifyRequest } from 'fastify';
import type { KnowledgeConfig } from '../../config-knowledge.js';
import type { AgentFile, NewAgentFile } from '../../domain/agent-files.js';
import { AppError } from '../../errors.js';
import type { Clock, IdGenerator } from '../../ids.js';
import { FileStorage } from '../../knowledge/file-storage.js';
import { detectDocumentType, FileTypeRefused } from '../../knowledge/file-type.js';
import type { OutboundClient } from '../../outbound/outbound-client.js';
import type { IdempotencyClaim, Store, StoreWriters } from '../../storage/store.js';
import { checkFileUrl } from './file-url-check.js';
import { emptyProgress, FILE_INGESTION } from './ingestion-progress.js';
import { receiveUpload, type ReceivedUpload } from './upload.js';

export interface FileIntakeDependencies {
  store: Store;
  clock: Clock;
  newId: IdGenerator;
  storage: FileStorage;
  outbound: OutboundClient;
  config: KnowledgeConfig;
  /** Attempts of an ingestion job (`JOB_MAX_ATTEMPTS`). */
  maxAttempts: number;
  /** Called after a commit that enqueued a job: the worker of this process claims it at once. */
  onEnqueued: () => void;
}

export interface JobAccepted {
  status: 'success';
  file_id: string;
  job_id: string;
}

/**
 * What adds work for the ingestion job: uploads, URLs and re-index requests. Each writes the file
 * row and its job in one transaction (architecture §2), and answers at once.
 */
export class FileIntakeService {
  constructor(private readonly dependencies: FileIntakeDependencies) {}

  /**
   * An upload: the agent checked first (nothing is read for an unknown agent), the body streamed
   * to a temporary file within the size and quota limits, its type detected from the bytes, then
   * the bytes moved to their key and the row and its job committed (docs/adr/0022 for the order).
   */
  async upload(input: { organizationId: string; agentId: string; request: FastifyRequest }): Promise<AgentFile> {
    const { store, storage, config } = this.dependencies;
    await this.#requireAgent(input);
    const quota = config.organizationQuotaBytes;
    const remaining = quota > 0 ? Math.max(0, quota - (await store.agentFiles.usedBytes(input))) : Infinity;
    const quotaBinds = remaining < config.maxUploadBytes;
    const received = await receiveUpload({
      request: input.request,
      storage,
      maxBytes: Math.min(config.maxUploadBytes, remaining),
      tooLarge: () => new AppError(quotaBinds ? 'storage_quota_exceeded' : 'file_too_large'),
    });
    let detected: { kind: string; mimeType: string };
    try {
      detected = await detectUpload(received);
    } catch (error) {
      await storage.removeTemporary(received.temporaryPath);
      throw error;
    }
    return this.#store(input, received, detected);
  }

  async #store(
    input: { organizationId: string; agentId: string },
    received: ReceivedUpload,
    detected: { kind: string; mimeType: string },
  ): Promise<AgentFile> {
    const { store, storage, clock, newId } = this.dependencies;
    const id = newId();
    const key = FileStorage.keyFor({ organizationId: input.organizationId, fileId: id });
    const file: NewAgentFile = {
      id,
      organization_id: input.organizationId,
      agent_id: input.agentId,
      name: received.name,
      source: 'upload',
      source_url: null,
      kind: detected.kind,
      mime_type: detected.mimeType,
      size: received.size,
      sha256: received.sha256,
      storage_key: key,
      created_at: clock.now().toISOString(),
    };
    // Before the commit: a committed row always has its bytes (a crash in between leaves bytes
    // without a row, which the sweep removes).
    await storage.place({ temporaryPath: received.temporaryPath, key });
    try {
      const created = await store.write((writers) => this.#insertWithJob(writers, file));
      this.dependencies.onEnqueued();
      return created;
    } catch (error) {
      await storage.remove(key);
      throw error;
    }
  }

  /** A URL to crawl: checked by the guarded client's rules, stored with its job. */
  async addUrl(input: {
    organizationId: string;
    agentId: string;
    url: string;
    idempotency?: IdempotencyClaim | undefined;
  }): Promise<JobAccepted> {
    const { store, clock, newId, outbound } = this.dependencies;
    const url = checkFileUrl(outbound, input.url);
    const file: NewAgentFile = {
      id: newId(),
      organization_id: input.organizationId,
      agent_id: input.agentId,
      name: url,
      source: 'url',
      source_url: url,
      kind: null,
      mime_type: 'text/html',
      size: 0,
      sha256: null,
      storage_key: null,
      created_at: clock.now().toISOString(),
    };
    const accepted = await store.write(
      async (writers): Promise<JobAccepted> => {
        const created = await this.#insertWithJob(writers, file);
        return { status: 'success', file_id: created.id, job_id: created.job_id! };
      },
      { idempotency: input.idempotency },
    );
    this.dependencies.onEnqueued();
    return accepted;
  }

  /** Re-extracts an upload or re-crawls a URL; the ready index stays searchable until replaced. */
  async reindex(input: { organizationId: string; agentId: string; fileId: string }): Promise<JobAccepted> {
    const { store, clock } = this.dependencies;
    await this.#requireAgent(input);
    const now = clock.now().toISOString();
    const jobId = await store.write(async (writers) => {
      const key = { organizationId: input.organizationId, agentId: input.agentId, id: input.fileId };
      const file = await writers.agentFiles.get(key);
      if (!file) throw new AppError('file_not_found');
      if (await writers.jobs.active({ organizationId: input.organizationId, subjectId: file.id })) {
        throw new AppError('file_job_running');
      }
      await writers.agentFiles.reopen({ ...key, now });
      return (await this.#enqueue(writers, { organizationId: input.organizationId, fileId: file.id, now })).id;
    });
    this.dependencies.onEnqueued();
    return { status: 'success', file_id: input.fileId, job_id: jobId };
  }

  /**
   * The periodic re-crawl: URL files last indexed before `before` get a re-index job, unless one
   * is queued or running. Returns how many were enqueued.
   */
  async recrawlDue(input: { before: string; limit: number }): Promise<number> {
    const { store, clock } = this.dependencies;
    let enqueued = 0;
    for (const file of await store.agentFiles.dueForRecrawl(input)) {
      const now = clock.now().toISOString();
      const added = await store.write(async (writers) => {
        if (await writers.jobs.active({ organizationId: file.organization_id, subjectId: file.id })) return false;
        await this.#enqueue(writers, { organizationId: file.organization_id, fileId: file.id, now });
        return true;
      });
      if (added) enqueued += 1;
    }
    if (enqueued > 0) this.dependencies.onEnqueued();
    return enqueued;
  }

  async #insertWithJob(writers: StoreWriters, file: NewAgentFile): Promise<AgentFile> {
    const inserted = await writers.agentFiles.insert(file, {
      quotaBytes: this.dependencies.config.organizationQuotaBytes,
    });
    if (inserted.kind === 'agent_not_found') throw new AppError('agent_not_found');
    if (inserted.kind === 'quota_exceeded') throw new AppError('storage_quota_exceeded');
    const job = await this.#enqueue(writers, {
      organizationId: file.organization_id,
      fileId: file.id,
      now: file.created_at,
    });
    return { ...inserted.file, job_id: job.id };
  }

  #enqueue(writers: StoreWriters, input: { organizationId: string; fileId: string; now: string }) {
    return writers.jobs.enqueue({
      id: this.dependencies.newId(),
      organization_id: input.organizationId,
      kind: FILE_INGESTION,
      subject_id: input.fileId,
      max_attempts: this.dependencies.maxAttempts,
      progress: emptyProgress(),
      now: input.now,
    });
  }

  async #requireAgent(input: { organizationId: string; agentId: string }): Promise<void> {
    const agent = await this.dependencies.store.agents.get({ organizationId: input.organizationId, id: input.agentId });
    if (!agent) throw new AppError('agent_not_found');
  }
}

/** The upload's type from its bytes: empty and refused files are client errors naming why. */
async function detectUpload(received: ReceivedUpload): Promise<{ kind: string; mimeType: string }> {
  if (received.size === 0) throw new AppError('empty_file');
  try {
    return await detectDocumentType({
      path: received.temporaryPath,
      fileName: received.name,
      claimedType: received.claimedType,
    });
  } catch (error) {
    if (error instanceof FileTypeRefused) throw new AppError(error.code, { message: error.message });
    throw error;
  }
}
