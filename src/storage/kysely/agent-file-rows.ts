import type {
  AgentFile,
  NewAgentFile,
  AgentFileMetadata,
  AgentFileSource,
  AgentFileStatus,
  StoredAgentFile,
} from '../../domain/agent-files.js';
import { URL_BUCKET_PREFIX } from '../../domain/agent-files.js';
import type { ExpressionBuilder } from 'kysely';
import type { AgentFileRow, Database } from './schema.js';

/** The one mapping from a stored row (with its latest job's id) to the API's AgentFile. */
export function rowToAgentFile(row: AgentFileRow & { job_id: string | null }): AgentFile {
  const metadata = JSON.parse(row.metadata) as AgentFileMetadata;
  return {
    id: row.id,
    agent_id: row.agent_id,
    organization_id: row.organization_id,
    name: row.name,
    bucket_path: row.storage_key ?? `${URL_BUCKET_PREFIX}${row.source_url ?? ''}`,
    size: Number(row.size),
    mime_type: row.mime_type,
    created_at: row.created_at,
    updated_at: row.updated_at,
    metadata,
    // Only the agent-files store writes these columns, and only with these values.
    status: row.status as AgentFileStatus,
    error_message: row.error_message,
    source: row.source as AgentFileSource,
    source_url: row.source_url,
    kind: row.kind,
    chunk_count: Number(row.chunk_count),
    page_count: typeof metadata.page_count === 'number' ? metadata.page_count : null,
    indexed_at: row.indexed_at,
    job_id: row.job_id,
  };
}

export function rowToStoredAgentFile(row: AgentFileRow & { job_id: string | null }): StoredAgentFile {
  return {
    ...rowToAgentFile(row),
    storage_key: row.storage_key,
    ready_generation: Number(row.ready_generation),
    building_generation: Number(row.building_generation),
  };
}

/** The id of the file's newest job (the API's `job_id`), as a correlated subquery. */
export function latestJobId(eb: ExpressionBuilder<Database, 'agent_files'>) {
  return eb
    .selectFrom('jobs')
    .select('jobs.id')
    .whereRef('jobs.organization_id', '=', 'agent_files.organization_id')
    .whereRef('jobs.subject_id', '=', 'agent_files.id')
    .orderBy('jobs.created_at', 'desc')
    .orderBy('jobs.id', 'desc')
    .limit(1)
    .as('job_id');
}

export const INSERTED_COLUMNS = [
  'id',
  'organization_id',
  'agent_id',
  'name',
  'source',
  'source_url',
  'kind',
  'mime_type',
  'size',
  'sha256',
  'storage_key',
  'status',
  'error_message',
  'metadata',
  'created_at',
  'updated_at',
] as const;

/** A new file's values, in INSERTED_COLUMNS order, selected beside its agent's row (insert … select). */
export function insertedValues(eb: ExpressionBuilder<Database, 'agents'>, file: NewAgentFile) {
  return [
    eb.val(file.id).as('id'),
    'agents.organization_id',
    'agents.id as agent_id',
    eb.val(file.name).as('name'),
    eb.val(file.source).as('source'),
    eb.val(file.source_url).as('source_url'),
    eb.val(file.kind).as('kind'),
    eb.val(file.mime_type).as('mime_type'),
    eb.val(file.size).as('size'),
    eb.val(file.sha256).as('sha256'),
    eb.val(file.storage_key).as('storage_key'),
    eb.val('processing').as('status'),
    eb.val<string | null>(null).as('error_message'),
    eb.val(JSON.stringify({})).as('metadata'),
    eb.val(file.created_at).as('created_at'),
    eb.val(file.created_at).as('updated_at'),
  ] as const;
}
