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
}

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

export interface Database {
  organizations: OrganizationRow;
  users: UserRow;
  api_keys: ApiKeyRow;
  agents: AgentRow;
  chat_threads: ThreadRow;
  chat_messages: MessageRow;
  tool_calls: ToolCallRow;
  message_feedback: FeedbackRow;
  idempotency_keys: IdempotencyRow;
}
