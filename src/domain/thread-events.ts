import type { Citation } from './citations.js';
import type { ChatMessage, ExecutionStatus, JsonObject, MessageFeedbackSimple } from './models.js';

/**
 * The events of a thread's log, one member per `type`, like `ModelStreamPart` in
 * models/model-port.ts. Durable events are stored with a per-thread sequence number; a text delta
 * is never stored (its text is folded into the `message-end` that follows). Adding an event type
 * is one entry here and one `append` where it happens.
 */
export interface ThreadEventData {
  'message-start': { message_id: string; role: string; run_id: string | null };
  'message-end': { message: ChatMessage };
  'run-start': { run_id: string; message_id: string; model: string };
  'tool-call-start': ToolCallEventKey & { arguments: JsonObject; start_time: string };
  /** A call of a tool that needs approval, waiting for it (docs/adr/0015-tool-approval.md). */
  'tool-approval-request': ToolCallEventKey & { arguments: JsonObject; expires_at: string };
  /**
   * `approval` only for calls that went through one; a rejected call has no `tool-call-start`.
   * `citations` only for a call of the knowledge tool that found passages: what the reply cites.
   */
  'tool-call-end': ToolCallEventKey & {
    result: unknown;
    error: string | null;
    end_time: string | null;
    approval?: 'approved' | 'rejected';
    citations?: Citation[];
  };
  'run-end': { run_id: string; status: ExecutionStatus; finish_reason: string; usage: RunUsage; message: ChatMessage };
  'run-error': { run_id: string; status: ExecutionStatus; error: RunError; message: ChatMessage };
  'text-delta': { message_id: string; run_id: string; step: number; delta: string };
  /**
   * An author rated an answer, or replaced their rating, or (`revoked`) withdrew it: `feedback`
   * is the rating as it now stands, or as it was when revoked with `feedback_type` null
   * (docs/feedback.md).
   */
  'feedback-created': { message_id: string; revoked: boolean; feedback: MessageFeedbackSimple };
  /**
   * Not in the log: a stream's own notice that live events stopped coming (`degraded`: Redis is
   * unreachable, stored events come every so often) or come again (`live`). docs/streaming.md.
   */
  'live-status': { state: 'live' | 'degraded' };
}

export interface ToolCallEventKey {
  message_id: string;
  run_id: string;
  /** The model call (1, 2, …) of the run that asked for this tool call: its step. */
  step: number;
  tool_call_id: string;
  tool_name: string;
}

export interface RunUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

/** Why a run did not complete, as clients see it (`run-error`, and the reply's metadata). */
export interface RunError {
  code: 'model_error' | 'run_timeout' | 'internal_error' | 'interrupted';
  message: string;
}

export type ThreadEventType = keyof ThreadEventData;
export type DurableEventType = Exclude<ThreadEventType, 'text-delta' | 'live-status'>;

/** One event of the given types, before it has a place in the log. */
export type ThreadEventOf<K extends ThreadEventType> = { [T in K]: { type: T; data: ThreadEventData[T] } }[K];

/** A durable event as the code that causes it appends it. */
export type NewThreadEvent = ThreadEventOf<DurableEventType>;

/** A durable event as stored: `seq` is its place in the thread's log (1, 2, … without gaps). */
export type ThreadEvent = NewThreadEvent & { seq: number; created_at: string };

export type TextDelta = ThreadEventOf<'text-delta'>;

/** The events that end a run: its followers stop after one of these. */
export type RunEndEvent = ThreadEventOf<'run-end' | 'run-error'>;
