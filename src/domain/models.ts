import type { AgentFile } from './agent-files.js';
/**
 * Domain objects, in the contract's shape (snake_case, as the API returns them). Stores map rows
 * to these in one function per aggregate; services and routes pass them through unchanged.
 */
export type JsonObject = Record<string, unknown>;

export type Scope = 'read' | 'write' | 'admin';
export const SCOPES: readonly Scope[] = ['read', 'write', 'admin'];

export interface Organization {
  id: string;
  name: string;
  created_at: string;
}

export interface User {
  id: string;
  organization_id: string;
  name: string;
  created_at: string;
}

/** An API key as it may be shown: never its hash or secret part. */
export interface ApiKey {
  id: string;
  organization_id: string;
  user_id: string;
  name: string;
  /** Enough to recognise the key: `pk_<id>_…` and its last four characters. */
  prefix: string;
  last_four: string;
  scopes: Scope[];
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

/** A key to store: its hash, never the key itself; a new key is not revoked. */
export interface NewApiKey {
  id: string;
  organization_id: string;
  user_id: string;
  name: string;
  key_hash: string;
  last_four: string;
  scopes: Scope[];
  created_at: string;
  expires_at: string | null;
}

/** What authentication needs: the stored hash and the key's owner. */
export interface ApiKeyCredential {
  id: string;
  organization_id: string;
  user_id: string;
  key_hash: string;
  scopes: Scope[];
  expires_at: string | null;
  revoked_at: string | null;
}

export type AgentStatus = 'active' | 'inactive' | 'draft' | 'archived';
export const AGENT_STATUSES: readonly AgentStatus[] = ['active', 'inactive', 'draft', 'archived'];

export interface Agent {
  id: string;
  name: string;
  description: string | null;
  avatar_url: string | null;
  configuration: JsonObject;
  template_id: string;
  organization_id: string;
  status: string;
  metadata: JsonObject;
  /** The agent's newest knowledge files (docs/knowledge.md). */
  files: AgentFile[];
  team_id: string[] | null;
  completed_flows_count: number;
  pending_flows_count: number;
  bot_sub: string;
  created_at: string;
  updated_at: string;
}

/** An agent to store: the fields the store derives (files, flow counts) are left out. */
export type NewAgent = Omit<Agent, 'files' | 'completed_flows_count' | 'pending_flows_count'>;

/** The fields an update may change; the ones left out keep their values. */
export interface AgentChanges {
  name?: string;
  description?: string | null;
  avatar_url?: string | null;
  configuration?: JsonObject;
  status?: string;
  metadata?: JsonObject;
  team_id?: string[] | null;
}

export interface ToolCall {
  tool_name: string;
  arguments: JsonObject;
  result: unknown;
  error: string | null;
  start_time: string;
  end_time: string | null;
}

export interface MessageFeedbackSimple {
  id: string;
  human_message_id: string | null;
  ai_message_id: string | null;
  flow_execution_id: string | null;
  user_id: string;
  organization_id: string;
  feedback_type: string | null;
  issue_type: string | null;
  comment: string | null;
  created_at: string;
  updated_at: string;
}

export type MessageRole = 'user' | 'assistant' | 'system' | 'tool';
export const MESSAGE_ROLES: readonly MessageRole[] = ['user', 'assistant', 'system', 'tool'];

export interface ChatMessage {
  id: string;
  thread_id: string;
  content: string;
  content_html: string | null;
  role: string;
  tool_calls: ToolCall[];
  attachments: JsonObject[];
  metadata: JsonObject;
  created_at: string;
  feedback: MessageFeedbackSimple | null;
}

export interface ChatThread {
  id: string;
  agent_id: string;
  user_id: string | null;
  anon_user_id: string | null;
  organization_id: string;
  title: string | null;
  metadata: JsonObject;
  created_at: string;
  updated_at: string;
  messages: ChatMessage[];
}

/** A thread to store: its messages are written on their own. */
export type NewThread = Omit<ChatThread, 'messages'>;

/** The response that answers replays of an Idempotency-Key; the store JSON-encodes `body`. */
export interface IdempotencyRecord {
  organization_id: string;
  key: string;
  /** SHA-256 of method, route and body: the same key with another request is refused. */
  fingerprint: string;
  status_code: number;
  body: unknown;
  created_at: string;
  expires_at: string;
}

/** What a replay needs from a live record. */
export interface RecordedResponse {
  fingerprint: string;
  status_code: number;
  /** The recorded body as JSON text, replayed byte for byte. */
  response_json: string;
}

export interface Page {
  limit: number;
  offset: number;
}

export type ExecutionStatus =
  'pending' | 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'timeout' | 'retrying';
export const EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  'pending',
  'queued',
  'running',
  'completed',
  'failed',
  'cancelled',
  'timeout',
  'retrying',
];
export const TRIGGER_TYPES = ['manual', 'event', 'scheduled', 'api', 'webhook', 'test'] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

export interface ExecutionStep {
  step_id: string;
  step_name: string;
  step_type: string;
  status: ExecutionStatus;
  started_at: string;
  tool_name: string | null;
  input_data: JsonObject;
  output_data: JsonObject;
  error_message: string | null;
  completed_at: string | null;
  duration_ms: number | null;
  retry_count: number;
  metadata: JsonObject;
}

export interface FlowExecution {
  id: string;
  flow_id: string;
  agent_id: string;
  organization_id: string;
  /** The chat thread a chat run answers in, and the assistant message it writes (null for other runs). */
  thread_id: string | null;
  message_id: string | null;
  /** The queue job that runs a flow's execution (docs/flows.md); null for a chat run. */
  job_id: string | null;
  execution_number: number;
  trigger_type: TriggerType;
  trigger_data: JsonObject;
  variables: JsonObject;
  priority: Priority;
  status: ExecutionStatus;
  started_at: string;
  completed_at: string | null;
  duration_ms: number | null;
  timeout_seconds: number;
  steps: ExecutionStep[];
  final_output: JsonObject | null;
  error_message: string | null;
  error_details: JsonObject | null;
  retry_count: number;
  max_retries: number;
  parent_execution_id: string | null;
  tokens_used: number | null;
  tool_calls_count: number;
  cost_estimate: number | null;
  performance_metrics: JsonObject;
  metadata: JsonObject;
  created_at: string;
  updated_at: string;
}
