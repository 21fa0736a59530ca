import type { Generated } from 'kysely';
import type { AnonymousUserRow, ThreadWebColumns, WidgetKeyRow, WidgetUserRow } from './schema-web-users.js';
import type { JobRow, JobTestRunRow } from './schema-jobs.js';
import type { OrganizationQuotaRow, RunUsageRow } from './schema-usage.js';
import type { WebhookDeliveryAttemptRow, WebhookDeliveryRow, WebhookRow } from './schema-webhooks.js';

export type { AnonymousUserRow, ThreadWebColumns, WidgetKeyRow, WidgetUserRow } from './schema-web-users.js';
export type { JobRow, JobTestRunRow } from './schema-jobs.js';
export type { OrganizationQuotaRow, RunUsageRow } from './schema-usage.js';

/**
 * Row types of every table, as both dialects store them. JSON is kept in text columns and
 * timestamps as ISO-8601 UTC text with milliseconds (which sorts in time order), so one set of
 * queries serves SQLite and PostgreSQL alike.
 */
export interface OrganizationRow {
  id: string;
  name: string;
  created_at: string;
}

export interface UserRow {
  id: string;
  organization_id: string;
  name: string;
  created_at: string;
}

export interface ApiKeyRow {
  id: string;
  organization_id: string;
  user_id: string;
  name: string;
  /** SHA-256 of the whole key, hex. The key itself is never stored. */
  key_hash: string;
  last_four: string;
  /** Comma-separated scopes, e.g. `read,write`. */
  scopes: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

export interface AgentRow {
  id: string;
  organization_id: string;
  template_id: string;
  name: string;
  description: string | null;
  avatar_url: string | null;
  configuration: string;
  metadata: string;
  status: string;
  team_id: string | null;
  bot_sub: string;
  created_at: string;
  updated_at: string;
}

export interface ThreadRow {
  id: string;
  organization_id: string;
  agent_id: string;
  user_id: string | null;
  anon_user_id: string | null;
  title: string | null;
  metadata: string;
  created_at: string;
  updated_at: string;
}

export interface MessageRow {
  id: string;
  organization_id: string;
  thread_id: string;
  role: string;
  content: string;
  content_html: string | null;
  attachments: string;
  metadata: string;
  created_at: string;
}

export interface ToolCallRow {
  id: string;
  organization_id: string;
  thread_id: string;
  message_id: string;
  position: number;
  tool_name: string;
  arguments: string;
  result: string | null;
  error: string | null;
  start_time: string;
  end_time: string | null;
  /** `ToolCallStatus` (migration 0006, as the four columns after it). */
  status: string;
  run_id: string | null;
  /** The model's id for the call. */
  tool_call_id: string | null;
  /** JSON `ToolCallApproval`, or null when the call needed none. */
  approval: string | null;
  approval_expires_at: string | null;
}

export interface FeedbackRow {
  id: string;
  organization_id: string;
  thread_id: string;
  user_id: string;
  human_message_id: string | null;
  ai_message_id: string | null;
  flow_execution_id: string | null;
  feedback_type: string | null;
  issue_type: string | null;
  comment: string | null;
  created_at: string;
  updated_at: string;
  /** Set for a chat-widget visitor, whose anonymous id is then `user_id` too (migration 0011, as the two after it). */
  anon_user_id: string | null;
  /** The request's `source` (`chat`, …); null for rows stored before migration 0011. */
  source: string | null;
  context_id: string | null;
}

/** A rating of a run (migration 0011); one per author (`user_id`) and run. */
export type FlowFeedbackRow = Omit<FeedbackRow, 'thread_id' | 'human_message_id' | 'ai_message_id' | 'source'> & {
  flow_execution_id: string;
  source: string;
};

export interface IdempotencyRow {
  organization_id: string;
  key: string;
  /** SHA-256 of method, route and body: the same key with another request is refused. */
  fingerprint: string;
  status_code: number;
  response_body: string;
  created_at: string;
  expires_at: string;
}

/** Columns of chat_threads that only the runtime reads and writes (migration 0002). */
export interface ThreadRunColumns {
  last_event_seq: Generated<number>;
  active_run_id: string | null;
  active_run_expires_at: string | null;
}

export interface ThreadEventRow {
  thread_id: string;
  seq: number;
  organization_id: string;
  type: string;
  data: string;
  created_at: string;
}

export interface FlowExecutionRow {
  id: string;
  organization_id: string;
  agent_id: string;
  thread_id: string | null;
  message_id: string | null;
  flow_id: string;
  execution_number: number;
  trigger_type: string;
  trigger_data: string;
  variables: string;
  priority: string;
  status: string;
  started_at: string;
  completed_at: string | null;
  duration_ms: number | null;
  timeout_seconds: number;
  steps: string;
  final_output: string | null;
  error_message: string | null;
  error_details: string | null;
  retry_count: number;
  max_retries: number;
  parent_execution_id: string | null;
  tokens_used: number | null;
  tool_calls_count: number;
  cost_estimate: number | null;
  performance_metrics: string;
  metadata: string;
  created_at: string;
  updated_at: string;
  /** JSON `RunCheckpoint` at the last step boundary, or null (migration 0003). */
  checkpoint: string | null;
  /** Boot id of the server process that runs (or last ran) it; null before migration 0004. */
  process_id: string | null;
}

/** A live (or not yet swept) server process (migration 0004). */
export interface ServerProcessRow {
  id: string;
  host: string;
  pid: number;
  heartbeat_ms: number;
  beats: Generated<number>;
  started_at: string;
  heartbeat_at: string;
}

/** A tool configured for an agent (migration 0005); secrets in `configuration` are sealed. */
export interface AgentToolRow {
  id: string;
  organization_id: string;
  agent_id: string;
  tool_name: string;
  tool_type: string;
  configuration: string | null;
  /** 0 or 1. */
  is_enabled: number;
  mcp_server_id: string | null;
  external_tool_connection_id: string | null;
  created_at: string;
  updated_at: string;
}

/** An MCP server registered for an agent (migration 0008); secrets in `auth_config` are sealed. */
export interface McpServerRow {
  id: string;
  organization_id: string;
  agent_id: string;
  name: string;
  url: string;
  auth_config: string | null;
  health_check_url: string | null;
  tool_discovery_endpoint: string | null;
  status: string;
  status_reason: string | null;
  last_health_check: string | null;
  created_at: string;
  updated_at: string;
}

/** OAuth client and tokens of one MCP server (migration 0008); `client_information` and `tokens` are sealed JSON. */
export interface McpOAuthCredentialsRow {
  mcp_server_id: string;
  organization_id: string;
  client_information: string | null;
  tokens: string | null;
  discovery: string | null;
  token_version: Generated<number>;
  refresh_lease_owner: string | null;
  refresh_lease_until: string | null;
  updated_at: string;
}

/** A pending authorization (migration 0008): keyed by the SHA-256 of its `state`; `code_verifier` is sealed. */
export interface McpOAuthStateRow {
  state_hash: string;
  organization_id: string;
  mcp_server_id: string;
  code_verifier: string;
  redirect_uri: string;
  scope: string | null;
  expected_issuer: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/** A knowledge file (migration 0009): an upload or an added URL, and how far its indexing got. */
export interface AgentFileRow {
  id: string;
  organization_id: string;
  agent_id: string;
  /** Display label only (sanitised); never part of a path. */
  name: string;
  /** `upload` or `url`. */
  source: string;
  source_url: string | null;
  /** The document kind decided from the bytes (src/knowledge/document.ts); null until known (URLs). */
  kind: string | null;
  mime_type: string;
  size: number;
  sha256: string | null;
  /** Where the bytes are kept, made by the server from ids; null for URLs (pages are not kept). */
  storage_key: string | null;
  /** `processing`, `ready` or `failed`. */
  status: string;
  error_message: string | null;
  /** JSON object. */
  metadata: string;
  /** The chunk generation search sees (0: none). */
  ready_generation: number;
  /** The generation the latest (re-)index writes. */
  building_generation: number;
  chunk_count: number;
  /** UTF-8 bytes of extracted text in the ready generation. */
  text_bytes: number;
  indexed_at: string | null;
  created_at: string;
  updated_at: string;
}

/** One searchable passage of a file, in one generation. */
export interface FileChunkRow {
  id: string;
  organization_id: string;
  agent_id: string;
  file_id: string;
  generation: number;
  ordinal: number;
  text: string;
  /** JSON array of headings, outermost first. */
  heading_path: string;
  page: number | null;
  url: string | null;
  title: string | null;
  token_count: number;
  /** float32 little-endian values, or null without an embedding model. */
  embedding: Uint8Array | null;
  created_at: string;
}

/** A chunk row as the ingestion job inserts it (`seq` is the database's). */
export type NewFileChunk = Readonly<FileChunkRow>;

export interface Database {
  organizations: OrganizationRow;
  users: UserRow;
  api_keys: ApiKeyRow;
  agents: AgentRow & { last_execution_number: Generated<number> };
  chat_threads: ThreadRow & ThreadRunColumns & ThreadWebColumns;
  chat_messages: MessageRow;
  tool_calls: ToolCallRow;
  message_feedback: FeedbackRow;
  flow_feedback: FlowFeedbackRow;
  idempotency_keys: IdempotencyRow;
  thread_events: ThreadEventRow;
  flow_executions: FlowExecutionRow;
  server_processes: ServerProcessRow;
  agent_tools: AgentToolRow;
  mcp_servers: McpServerRow;
  mcp_oauth_credentials: McpOAuthCredentialsRow;
  mcp_oauth_states: McpOAuthStateRow;
  agent_files: AgentFileRow;
  /** `seq` (an integer key, made by the database) is used by the SQLite full-text index only. */
  file_chunks: FileChunkRow & { seq: Generated<number> };
  jobs: JobRow;
  job_test_runs: JobTestRunRow;
  widget_keys: WidgetKeyRow;
  anonymous_users: AnonymousUserRow;
  widget_users: WidgetUserRow;
  run_usage: RunUsageRow;
  organization_quotas: OrganizationQuotaRow;
  webhooks: WebhookRow;
  webhook_deliveries: WebhookDeliveryRow;
  webhook_delivery_attempts: WebhookDeliveryAttemptRow;
}
