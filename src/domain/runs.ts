import type {
  ChatMessage,
  ExecutionStep,
  FlowExecution,
  JsonObject,
  MessageFeedbackSimple,
  ToolCall,
} from './models.js';

/**
 * The domain inputs of a run's writes: what the runtime hands the store. The store encodes them
 * into columns; nothing above src/storage/kysely/ sees a row.
 */

/** A message as it is added to a thread, with the tool calls it made (imported history). */
export type NewMessage = Omit<ChatMessage, 'tool_calls' | 'feedback'> & {
  organization_id: string;
  tool_calls?: PositionedToolCall[];
};

/** A tool call with the id of its stored record (the API shows calls without it). */
export interface StoredToolCall extends ToolCall {
  id: string;
}

/** A tool call with its place among its message's calls (readers return them in that order). */
export interface PositionedToolCall extends StoredToolCall {
  position: number;
}

/**
 * Where a tool call stands. `pending_approval`: its tool needs a person's approval and none has
 * been given yet; `rejected`: refused (or its request expired) — it never ran. An approved call
 * is `running` from its approval on (docs/adr/0015-tool-approval.md).
 */
export type ToolCallStatus = 'running' | 'completed' | 'failed' | 'pending_approval' | 'rejected';

/** The approval a call of a `requiresApproval` tool went through (or is waiting for). */
export interface ToolCallApproval {
  /** The model call (step) of the run that asked for the call. */
  step: number;
  requested_at: string;
  expires_at: string;
  /** The arguments the model asked for (an approval may replace them). */
  requested_arguments: JsonObject;
  decision: 'approved' | 'rejected' | null;
  /** Why it was rejected: the reviewer's words, or `expired`. */
  reason: string | null;
  decided_at: string | null;
}

/** A tool call a run has started (or asked approval for): its record exists before the tool returns. */
export interface NewToolCall {
  id: string;
  organization_id: string;
  thread_id: string;
  message_id: string;
  /** Order within the message. */
  position: number;
  tool_name: string;
  arguments: JsonObject;
  start_time: string;
  run_id: string;
  /** The model's id for the call. */
  tool_call_id: string;
  status: 'running' | 'pending_approval';
  approval: ToolCallApproval | null;
}

/** A call of a run as the approval routes see it: its record with status and approval. */
export interface RunToolCall extends PositionedToolCall {
  status: ToolCallStatus;
  run_id: string;
  tool_call_id: string;
  approval: ToolCallApproval | null;
}

/** The statuses in the order the API documents them. */
export const TOOL_CALL_STATUSES: readonly ToolCallStatus[] = [
  'running',
  'completed',
  'failed',
  'pending_approval',
  'rejected',
];

/**
 * A tool call as the audit list shows it: its record with the agent of its thread. `run_id` and
 * `tool_call_id` are null for imported history and calls stored before migration 0006.
 */
export interface AuditedToolCall extends StoredToolCall {
  agent_id: string;
  thread_id: string;
  message_id: string;
  run_id: string | null;
  tool_call_id: string | null;
  status: ToolCallStatus;
  approval: ToolCallApproval | null;
}

/** What the audit list is narrowed by; `from` and `to` bound `start_time`, both inclusive, ISO-8601 UTC. */
export interface ToolCallFilter {
  organizationId: string;
  agentId?: string | undefined;
  toolName?: string | undefined;
  status?: ToolCallStatus | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

/** A pending approval whose deadline has passed, as the expiry sweep finds it. */
export interface ExpiredApproval {
  organizationId: string;
  runId: string;
  toolCallId: string;
}

/** A message of the conversation a run sends to the model, oldest first. */
export interface ConversationMessage {
  id: string;
  role: string;
  content: string;
  tool_calls: StoredToolCall[];
}

/** Feedback on a message pair of a thread. */
export type NewFeedback = MessageFeedbackSimple & { thread_id: string };

/** A flow execution before the store gives it its per-agent `execution_number`. */
export type NewRun = Omit<FlowExecution, 'execution_number'>;

/** What a run's end sets on its execution. */
export type RunCompletion = Pick<
  FlowExecution,
  | 'status'
  | 'completed_at'
  | 'duration_ms'
  | 'steps'
  | 'final_output'
  | 'error_message'
  | 'error_details'
  | 'tokens_used'
  | 'tool_calls_count'
  | 'cost_estimate'
  | 'performance_metrics'
  | 'updated_at'
>;

/**
 * A chat run as it opens: an execution of the agent's own flow (ADR 0005), running, with no
 * steps yet.
 */
export function openedChatRun(input: {
  id: string;
  organizationId: string;
  agentId: string;
  threadId: string;
  messageId: string;
  model: string;
  startedAt: string;
  timeoutSeconds: number;
}): NewRun {
  return {
    id: input.id,
    flow_id: input.agentId,
    agent_id: input.agentId,
    organization_id: input.organizationId,
    thread_id: input.threadId,
    message_id: input.messageId,
    job_id: null,
    trigger_type: 'api',
    trigger_data: { thread_id: input.threadId, message_id: input.messageId },
    variables: {},
    priority: 'normal',
    status: 'running',
    started_at: input.startedAt,
    completed_at: null,
    duration_ms: null,
    timeout_seconds: input.timeoutSeconds,
    steps: [],
    final_output: null,
    error_message: null,
    error_details: null,
    retry_count: 0,
    max_retries: 0,
    parent_execution_id: null,
    tokens_used: null,
    tool_calls_count: 0,
    cost_estimate: null,
    performance_metrics: {},
    metadata: { thread_id: input.threadId, message_id: input.messageId, model: input.model },
    created_at: input.startedAt,
    updated_at: input.startedAt,
  };
}

/**
 * Where a run stands at a step boundary: enough to go on later from stored state alone (another
 * process, after a pause for approval or a queue). `transcript` is what the run added to the
 * conversation so far (the model's tool calls and the tools' results); the history before the
 * run is read again from the thread.
 */
export interface RunCheckpoint {
  /** The model call to make next (1-based). */
  next_step: number;
  /** When the reply message was created (it keeps its place in the thread). */
  reply_created_at: string;
  text: string;
  usage: { input_tokens: number; output_tokens: number };
  finish_reason: string;
  steps: ExecutionStep[];
  transcript: TranscriptEntry[];
  /**
   * Set while the run waits for approvals: the calls of step `next_step`, all of which run (or
   * get their refusal) once every pending one is decided. Absent otherwise.
   */
  awaiting_calls?: TranscriptToolCall[];
}

/** A tool call as the model asked for it, in a run's transcript. */
export interface TranscriptToolCall {
  toolCallId: string;
  toolName: string;
  input: JsonObject;
}

/** One entry of a run's own part of the conversation (the same shape the model port takes). */
export type TranscriptEntry =
  | { role: 'assistant'; content: string; toolCalls: TranscriptToolCall[] }
  | { role: 'tool'; toolCallId: string; toolName: string; result: unknown; isError: boolean };

/** What a run that died with its process is failed with. */
export const INTERRUPTED_ERROR = {
  code: 'interrupted',
  message: 'The run was interrupted (its server stopped)',
} as const;

/** A run that died with its process and was failed by recovery, with its reply as it was left. */
export interface InterruptedRun {
  runId: string;
  organizationId: string;
  threadId: string | null;
  reply: ChatMessage | null;
}

/** A run that stopped at a step boundary, as stored. */
export interface PausedRun {
  execution: FlowExecution;
  checkpoint: RunCheckpoint;
}

/** A message without tool calls (a question, an imported message) as the store takes it. */
export function newMessageOf(message: ChatMessage, organizationId: string): NewMessage {
  const { tool_calls: _toolCalls, feedback: _feedback, ...fields } = message;
  return { ...fields, organization_id: organizationId };
}
