import { Type } from '@sinclair/typebox';
import { DateTime, FreeObject, MAX_LIST_OFFSET, Nullable, Uuid } from '../../http/schemas.js';

/** The contract types the agent-files family's `agent_id` as `string<uuid> | null`, required. */
const AgentId = Type.String({ format: 'uuid', description: 'The agent whose knowledge files these are.' });

export const AgentFilesParams = Type.Object({ agent_id: AgentId });
export const AgentFileParams = Type.Object({ agent_id: AgentId, file_id: Uuid });
export const AgentJobParams = Type.Object({ agent_id: AgentId, job_id: Uuid });

export const AgentFile = Type.Object(
  {
    id: Uuid,
    agent_id: Uuid,
    organization_id: Uuid,
    name: Type.String({ description: 'The uploaded file’s name, sanitised (a label only), or the URL added.' }),
    bucket_path: Type.String({
      description: 'Where the bytes are kept: the storage key `<organization_id>/<file_id>`, or `url:<url>` for a URL.',
    }),
    size: Type.Integer({ description: 'Bytes: of the upload, or of the pages a URL’s crawl fetched.' }),
    mime_type: Type.String({ description: 'The type detected from the bytes (never the client’s claim).' }),
    created_at: DateTime,
    updated_at: DateTime,
    metadata: {
      ...FreeObject,
      description:
        'Facts of the last index, written by the server: `page_count`, and for URLs `pages_indexed` and `problems`.',
    },
    status: Type.Union([Type.Literal('processing'), Type.Literal('ready'), Type.Literal('failed')], {
      description:
        'Extension: `processing` until indexed, then `ready`, or `failed` with `error_message` (docs/knowledge.md).',
    }),
    error_message: Nullable(
      Type.String({ description: 'Extension: why the file failed (or why a re-index did not replace a ready index).' }),
    ),
    source: Type.Union([Type.Literal('upload'), Type.Literal('url')], { description: 'Extension.' }),
    source_url: Nullable(Type.String({ description: 'Extension: the URL a URL file was added with.' })),
    kind: Nullable(
      Type.String({ description: 'Extension: `pdf`, `docx`, `text`, `markdown`, `html`, `csv`, `json`, …' }),
    ),
    chunk_count: Type.Integer({ description: 'Extension: searchable passages in the ready index.' }),
    page_count: Nullable(
      Type.Integer({ description: 'Extension: pages (PDF), slides or sheets; crawled pages for URLs.' }),
    ),
    indexed_at: Nullable(DateTime),
    job_id: Nullable(
      Type.String({ format: 'uuid', description: 'Extension: the file’s latest job (`GET …/jobs/{job_id}`).' }),
    ),
  },
  { $id: 'AgentFile', additionalProperties: false, description: 'A knowledge file of an agent.' },
);

export const AgentFileList = Type.Object(
  {
    files: Type.Array(Type.Ref(AgentFile)),
    total_count: Type.Integer(),
    page: Type.Integer(),
    page_size: Type.Integer(),
    has_more: Type.Boolean(),
  },
  { $id: 'AgentFileList', additionalProperties: false },
);

export const AgentFileListQuery = Type.Object({
  // (page - 1) × page_size stays within MAX_LIST_OFFSET.
  page: Type.Integer({ minimum: 1, maximum: MAX_LIST_OFFSET / 100, default: 1 }),
  page_size: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
});

export const AddUrlBody = Type.Object(
  { url: Type.String({ format: 'uri', minLength: 1, maxLength: 2083, description: 'A public http(s) URL to crawl.' }) },
  { $id: 'AddUrlRequest', additionalProperties: false },
);

export const FileJobAccepted = Type.Object(
  {
    status: Type.Literal('success'),
    file_id: Type.String({ description: 'The file record’s id.' }),
    job_id: Type.String({ description: 'The background job’s id (`GET …/jobs/{job_id}`).' }),
  },
  { $id: 'AddUrlResponse', additionalProperties: false },
);

/** Search query: the contract's `query` (min 1) and `limit` (1..20, default 5). */
export const FileSearchQuery = Type.Object({
  query: Type.String({ minLength: 1, maxLength: 1000, description: 'Natural-language text to search for.' }),
  limit: Type.Integer({ minimum: 1, maximum: 20, default: 5 }),
});

export const FileSearchResult = Type.Object(
  {
    file: Type.Ref(AgentFile),
    chunk_text: Type.String(),
    similarity: Type.Number({
      minimum: 0,
      maximum: 1,
      description: '0..1, higher is closer (docs/knowledge-search.md).',
    }),
  },
  { $id: 'FileSearchResult', additionalProperties: false },
);

export const IngestionProblem = Type.Object(
  { url: Type.String(), reason: Type.String() },
  { additionalProperties: false },
);

export const AgentFileJob = Type.Object(
  {
    id: Uuid,
    file_id: Uuid,
    kind: Type.String({ description: '`file_ingestion`.' }),
    status: Type.Union(['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((status) => Type.Literal(status))),
    attempts: Type.Integer(),
    max_attempts: Type.Integer(),
    progress: Type.Object(
      {
        pages_done: Type.Integer(),
        pages_total: Type.Optional(Type.Integer()),
        chunks: Type.Integer(),
        problems: Type.Array(IngestionProblem, { description: 'Pages that could not be indexed (at most 50).' }),
      },
      { additionalProperties: false },
    ),
    error_message: Nullable(Type.String()),
    created_at: DateTime,
    updated_at: DateTime,
    started_at: Nullable(DateTime),
    finished_at: Nullable(DateTime),
  },
  { $id: 'AgentFileJob', additionalProperties: false, description: 'A file’s ingestion job (extension).' },
);

/** The upload's multipart body, for the OpenAPI document (the route reads the stream itself). */
export const UploadBody = Type.Object(
  {
    file: Type.String({
      format: 'binary',
      description: 'The file: PDF, DOCX, TXT, Markdown, HTML, CSV, JSON, XLSX or PPTX.',
    }),
  },
  { required: ['file'] },
);
