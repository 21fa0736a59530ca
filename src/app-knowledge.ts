import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { FileIngestionHandler } from './features/files/file-ingestion.js';
import { FileIntakeService } from './features/files/file-intake.service.js';
import { registerFileRoutes } from './features/files/files.routes.js';
import { FilesService } from './features/files/files.service.js';
import { RecrawlScheduler } from './features/files/recrawl-scheduler.js';
import type { Clock, IdGenerator } from './ids.js';
import { JobWorker } from './jobs/job-worker.js';
import { createEmbeddingModel, type EmbeddingModel } from './knowledge/embeddings.js';
import { DocumentExtractor } from './knowledge/extract/document-extractor.js';
import { FileStorage, ORPHAN_GRACE_MS } from './knowledge/file-storage.js';
import type { KnowledgeSearch } from './knowledge/knowledge-search.js';
import { StoredKnowledgeSearch } from './knowledge/stored-knowledge-search.js';
import type { Idempotency } from './http/idempotency.js';
import type { OutboundClient } from './outbound/outbound-client.js';
import type { Store } from './storage/store.js';

/** The parts of agents' knowledge made before the tools (which search it): the file store and search. */
export interface KnowledgeBase {
  storage: FileStorage;
  /** What the search route and the `knowledge_base_search` tool search (docs/knowledge-search.md). */
  search: KnowledgeSearch;
  embeddings: EmbeddingModel | null;
}

export function createKnowledgeBase(input: {
  app: FastifyInstance;
  dependencies: { config: Config; store: Store; knowledge?: KnowledgeSearch | undefined };
}): KnowledgeBase {
  const { config, store } = input.dependencies;
  const spec = config.knowledge.embeddingModel;
  // A configured model whose provider is not set up stops the start (ModelError), as chat models do.
  const embeddings = spec === null ? null : createEmbeddingModel(spec, config.models);
  const search =
    input.dependencies.knowledge ?? new StoredKnowledgeSearch({ store, embeddings, logger: input.app.log });
  return { storage: new FileStorage(config.knowledge.filesDir), search, embeddings };
}

/** The running side of knowledge: the job worker, the periodic re-crawl and sweep; stopped with the app. */
export interface Knowledge {
  worker: JobWorker;
  stop(): Promise<void>;
}

/**
 * The agent-files API (docs/knowledge.md) and what runs behind it: one JobWorker per process
 * with the `file_ingestion` handler, started when the app is ready (after the orphan sweep);
 * the periodic re-crawl; the hourly sweep of unowned bytes. `stop()` (also on close) stops them,
 * the worker giving its running jobs back to the queue.
 */
export function createKnowledge(input: {
  app: FastifyInstance;
  config: Config;
  store: Store;
  clock: Clock;
  generateId: IdGenerator;
  outbound: OutboundClient;
  idempotency: Idempotency;
  base: KnowledgeBase;
}): Knowledge {
  const { app, config, store, clock, generateId, outbound, base } = input;
  const { storage } = base;
  const settings = config.knowledge;
  // One extraction worker thread per job the queue runs at once.
  const extractor = new DocumentExtractor({ ...settings.extraction, concurrency: settings.jobs.concurrency });
  const ingestion = new FileIngestionHandler({
    store,
    clock,
    newId: generateId,
    storage,
    extractor,
    embeddings: base.embeddings,
    outbound,
    config: settings,
  });
  const worker = new JobWorker({
    store,
    clock,
    newId: generateId,
    handlers: [ingestion],
    concurrency: settings.jobs.concurrency,
    leaseMs: settings.jobs.leaseMs,
    log: app.log,
  });
  const intake = new FileIntakeService({
    store,
    clock,
    newId: generateId,
    storage,
    outbound,
    config: settings,
    onEnqueued: () => worker.wake(),
  });
  const files = new FilesService({ store, storage, search: base.search, cancelJob: (id) => worker.cancel(id) });
  registerFileRoutes(app, { files, intake, idempotency: input.idempotency });
  const recrawl = new RecrawlScheduler({ intake, clock, intervalMs: settings.crawl.recrawlIntervalMs, log: app.log });
  const sweep = () =>
    storage.sweep({ owned: (keys) => store.agentFiles.ownedKeys(keys), graceMs: ORPHAN_GRACE_MS, now: Date.now() });
  let sweeper: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    await storage.init();
    await sweep();
    worker.start();
    recrawl.start();
    sweeper = setInterval(() => {
      sweep().catch((error: unknown) => app.log.error({ err: error }, 'sweeping unowned file bytes failed'));
    }, ORPHAN_GRACE_MS);
    sweeper.unref();
  });
  const stop = async () => {
    clearInterval(sweeper);
    await recrawl.stop();
    await worker.stop();
    await extractor.close();
  };
  app.addHook('onClose', stop);
  return { worker, stop };
}
