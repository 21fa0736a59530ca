/**
 * JSON objects are spelled out here rather than taken from models.ts (`JsonObject` is the same
 * type): models.ts takes AgentFile from this file, and the two must not import each other.
 */
type JsonObject = Record<string, unknown>;

/** Where a knowledge file stands (docs/knowledge.md, "Lifecycle"). */
export type AgentFileStatus = 'processing' | 'ready' | 'failed';
export type AgentFileSource = 'upload' | 'url';

/** How many files `Agent.files` shows per agent (newest first); `GET …/files` pages through all. */
export const AGENT_FILES_SHOWN = 100;

/** The `bucket_path` of a URL file: there are no stored bytes, only the pages crawled from it. */
export const URL_BUCKET_PREFIX = 'url:';

/**
 * A knowledge file as the API shows it: the contract's AgentFile fields (id … metadata, exact),
 * then Parley's extension fields (docs/knowledge.md, "The AgentFile object"). `bucket_path` is
 * the storage key (`<organization_id>/<file_id>`) or `url:<url>`, never a filesystem path.
 */
export interface AgentFile {
  id: string;
  agent_id: string;
  organization_id: string;
  name: string;
  bucket_path: string;
  size: number;
  mime_type: string;
  created_at: string;
  updated_at: string;
  metadata: JsonObject;
  status: AgentFileStatus;
  error_message: string | null;
  source: AgentFileSource;
  source_url: string | null;
  kind: string | null;
  chunk_count: number;
  page_count: number | null;
  indexed_at: string | null;
  /** The file's latest job (ingestion or re-index); null when it has none left. */
  job_id: string | null;
}

/**
 * What the server keeps in a file's `metadata` column (and shows as `metadata`): facts of the
 * last index, never anything a client sent. `page_count` is also shown at the top level.
 */
export interface AgentFileMetadata extends JsonObject {
  page_count?: number | null;
  /** Crawled URLs: pages indexed, and the pages that could not be (bounded; see crawl progress). */
  pages_indexed?: number;
  problems?: { url: string; reason: string }[];
}

/** A file as the ingestion job needs it: the row's build state beside the API view. */
export interface StoredAgentFile extends AgentFile {
  storage_key: string | null;
  ready_generation: number;
  building_generation: number;
}

/** The API's view of a stored file (its storage fields left out). */
export function withoutStorage(file: StoredAgentFile): AgentFile {
  const { storage_key: _key, ready_generation: _ready, building_generation: _building, ...view } = file;
  return view;
}

/** A new file row: an upload (bytes already under `storage_key`) or a URL to crawl. */
export interface NewAgentFile {
  id: string;
  organization_id: string;
  agent_id: string;
  name: string;
  source: AgentFileSource;
  source_url: string | null;
  kind: string | null;
  mime_type: string;
  size: number;
  sha256: string | null;
  storage_key: string | null;
  created_at: string;
}
