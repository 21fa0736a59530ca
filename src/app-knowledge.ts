import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { FileIngestionHandler } from './features/files/file-ingestion.js';
import { FileIntakeService } from './features/files/file-intake.service.js';
import { registerFileRoutes } from './features/files/files.routes.js';
import { FilesService } from './features/files/files.service.js';
import { RecrawlScheduler } from './features/files/recrawl-scheduler.js';
import type { Clock, IdGenerator } from './ids.js';
import { createEmbeddingModel, type EmbeddingModel } from './knowledge/embeddings.js';
import { DocumentExtractor } from './knowledge/extract/document-extractor.js';
import { FileStorage, ORPHAN_GRACE_MS } from './knowledge/file-storage.js';
import type { KnowledgeSearch } from './knowledge/knowledge-search.js';
import { StoredKnowledgeSearch } from './knowledge/stored-knowledge-search.js';
import type { Idempotency } from './http/idempotency.js';
import type { OutboundClient } from './outbound/outbound-client.js';
import type { Store } from './storage/store.js';
import { attachJobs, type Jobs } from './app-jobs.js';

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

interface KnowledgeInput {
  app: FastifyInstance;
  config: Config;
  store: Store;
  clock: Clock;
  generateId: IdGenerator;
  outbound: OutboundClient;
  base: KnowledgeBase;
  jobs: Jobs;
}

/** The running side of knowledge: the periodic re-crawl and sweep, the extraction threads. */
export interface Knowledge {
  /** Stops them; after the job worker has stopped (its ingestion jobs use the extraction threads). */
  stop(): Promise<void>;
}

/**
 * The agent-files API (docs/knowledge.md) and what runs behind it: the `file_ingestion` handler
 * of the job queue; the periodic re-crawl; the hourly sweep of unowned bytes, run once before
 * the app is ready (so before the job worker starts). `stop()` stops them.
 */
export function createKnowledge(input: KnowledgeInput & { idempotency: Idempotency }): Knowledge {
  const { app, config, store, clock, generateId, outbound, base, jobs } = input;
  const settings = config.knowledge;
  const extractor = createIngestion(input);
  const intake = new FileIntakeService({
    store,
    clock,
    newId: generateId,
    storage: base.storage,
    outbound,
    config: settings,
    maxAttempts: config.jobs.maxAttempts,
    onEnqueued: () => jobs.wake(),
  });
  const files = new FilesService({
    store,
    storage: base.storage,
    search: base.search,
    cancelJob: (id) => jobs.cancel(id),
  });
  registerFileRoutes(app, { files, intake, idempotency: input.idempotency });
  const recrawl = new RecrawlScheduler({ intake, clock, intervalMs: settings.crawl.recrawlIntervalMs, log: app.log });
  const sweeper = new OrphanSweeper({ storage: base.storage, store, log: app.log });
  app.addHook('onReady', async () => {
    await sweeper.start();
    recrawl.start();
  });
  const stop = async () => {
    sweeper.stop();
    await recrawl.stop();
    await extractor.close();
  };
  // The worker starts after the sweep above, and stops before the extraction threads its jobs use.
  attachJobs(app, jobs, stop);
  return { stop };
}

/** The `file_ingestion` handler, registered with the job queue, and the extraction threads it uses. */
function createIngestion(input: KnowledgeInput): DocumentExtractor {
  const { store, clock, generateId, outbound, base } = input;
  const settings = input.config.knowledge;
  // One extraction worker thread per job the queue runs at once.
  const concurrency = Math.max(1, input.config.jobs.workerConcurrency);
  const extractor = new DocumentExtractor({ ...settings.extraction, concurrency });
  const ingestion = new FileIngestionHandler({
    store,
    clock,
    newId: generateId,
    storage: base.storage,
    extractor,
    embeddings: base.embeddings,
    outbound,
    config: settings,
  });
  input.jobs.register(ingestion);
  return extractor;
}

/** Removes bytes no file row owns (file-storage.ts): at start, then hourly. */
class OrphanSweeper {
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly input: { storage: FileStorage; store: Store; log: FastifyBaseLogger }) {}

  async start(): Promise<void> {
    await this.input.storage.init();
    await this.#sweep();
    this.#timer = setInterval(() => {
      this.#sweep().catch((error: unknown) =>
        this.input.log.error({ err: error }, 'sweeping unowned file bytes failed'),
      );
    }, ORPHAN_GRACE_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #sweep(): Promise<number> {
    const { storage, store } = this.input;
    return storage.sweep({
      owned: (keys) => store.agentFiles.ownedKeys(keys),
      graceMs: ORPHAN_GRACE_MS,
      now: Date.now(),
    });
  }
}
