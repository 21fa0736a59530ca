import os from 'node:os';
import path from 'node:path';
import { ConfigError, readInteger, readOptional, type DatabaseTarget, type Environment } from './config-values.js';
import { PARLEY_VERSION } from './version.js';

/** Agents' knowledge files: storage, extraction, crawling, indexing and search (docs/knowledge.md). */
export interface KnowledgeConfig {
  /**
   * `FILES_DIR` (absolute): where uploaded files' bytes are kept, under keys the server makes.
   * Default: `files/` beside the SQLite file, `./data/files` with PostgreSQL, and a folder of
   * its own under the system's temporary folder for an in-memory database.
   */
  readonly filesDir: string;
  /** `MAX_UPLOAD_BYTES`: the largest file one upload may carry (413 beyond it). */
  readonly maxUploadBytes: number;
  /** `ORGANIZATION_STORAGE_QUOTA_BYTES`: bytes of files one organisation may keep; 0: no limit. */
  readonly organizationQuotaBytes: number;
  /**
   * `EMBEDDING_MODEL`: `openai:<model>`, `ollama:<model>` or `openai-compatible:<endpoint>/<model>`
   * (the endpoints and keys the chat models use); null: full-text search only.
   */
  readonly embeddingModel: string | null;
  /** Extraction runs in a worker thread with these caps (`EXTRACTION_TIMEOUT_MS`, `EXTRACTION_MEMORY_MB`). */
  readonly extraction: { readonly timeoutMs: number; readonly memoryMb: number };
  /** Chunk size and overlap, in tokens (`CHUNK_TOKENS`, `CHUNK_OVERLAP_TOKENS`). */
  readonly chunking: { readonly targetTokens: number; readonly overlapTokens: number };
  /** URL ingestion (`CRAWL_MAX_DEPTH`, `CRAWL_MAX_PAGES`, `CRAWL_RECRAWL_INTERVAL_MS`: 0 = only on request). */
  readonly crawl: {
    readonly maxDepth: number;
    readonly maxPages: number;
    readonly maxPageBytes: number;
    readonly recrawlIntervalMs: number;
    readonly userAgent: string;
  };
}

const MIB = 1024 * 1024;

export function readKnowledgeConfig(
  environment: Environment,
  input: { database: DatabaseTarget; cwd: string },
): KnowledgeConfig {
  const filesDir = readOptional(environment, 'FILES_DIR');
  return Object.freeze({
    filesDir: filesDir === undefined ? defaultFilesDir(input.database, input.cwd) : path.resolve(input.cwd, filesDir),
    maxUploadBytes: readInteger(environment, 'MAX_UPLOAD_BYTES', 100 * MIB, { min: 1, max: 10 * 1024 * MIB }),
    organizationQuotaBytes: readInteger(environment, 'ORGANIZATION_STORAGE_QUOTA_BYTES', 10 * 1024 * MIB, {
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
    }),
    embeddingModel: readEmbeddingModel(environment),
    extraction: Object.freeze({
      timeoutMs: readInteger(environment, 'EXTRACTION_TIMEOUT_MS', 300_000, { min: 1000, max: 3_600_000 }),
      memoryMb: readInteger(environment, 'EXTRACTION_MEMORY_MB', 512, { min: 64, max: 16_384 }),
    }),
    chunking: Object.freeze({
      targetTokens: readInteger(environment, 'CHUNK_TOKENS', 350, { min: 50, max: 4000 }),
      overlapTokens: readInteger(environment, 'CHUNK_OVERLAP_TOKENS', 50, { min: 0, max: 1000 }),
    }),
    crawl: Object.freeze({
      maxDepth: readInteger(environment, 'CRAWL_MAX_DEPTH', 2, { min: 0, max: 10 }),
      maxPages: readInteger(environment, 'CRAWL_MAX_PAGES', 50, { min: 1, max: 10_000 }),
      maxPageBytes: readInteger(environment, 'CRAWL_MAX_PAGE_BYTES', 5 * MIB, { min: 1024, max: 100 * MIB }),
      recrawlIntervalMs: readInteger(environment, 'CRAWL_RECRAWL_INTERVAL_MS', 0, { min: 0, max: 365 * 86_400_000 }),
      userAgent: `Parley/${PARLEY_VERSION}`,
    }),
  });
}

function defaultFilesDir(database: DatabaseTarget, cwd: string): string {
  if (database.kind === 'postgres') return path.resolve(cwd, 'data', 'files');
  if (database.filename === ':memory:') return path.join(os.tmpdir(), `parley-files-${process.pid}`);
  return path.join(path.dirname(database.filename), 'files');
}

const EMBEDDING_MODEL_FORMAT = /^(?:openai|ollama):[\w.:-]+$|^openai-compatible:[a-z0-9-]+\/[\w.:/-]+$/;

function readEmbeddingModel(environment: Environment): string | null {
  const value = readOptional(environment, 'EMBEDDING_MODEL');
  if (value === undefined) return null;
  if (!EMBEDDING_MODEL_FORMAT.test(value)) {
    throw new ConfigError(
      'EMBEDDING_MODEL',
      `must be openai:<model>, ollama:<model> or openai-compatible:<endpoint>/<model>, got "${value}"`,
    );
  }
  return value;
}
