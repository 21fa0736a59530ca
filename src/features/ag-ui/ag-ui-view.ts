import type { ThreadEventData } from '../../domain/thread-events.js';
import type { AppError } from '../../errors.js';
import type { SseDialect, SseMessage } from '../../http/sse.js';
import type { LiveEvent } from '../../runtime/live-bus.js';

/**
 * The AG-UI view of one run (https://docs.ag-ui.com, protocol 1.0, as `@ag-ui/client` reads it):
 * each frame is `data: <one event as JSON>`, with no `id:` (AG-UI does not resume a run's
 * stream, and one log event can become several AG-UI events) and no `event:`. The mapping is in
 * docs/streaming.md; the reasons in docs/adr/0011-ag-ui.md.
 */
export type AgUiEvent =
  | { type: 'RUN_STARTED'; threadId: string; runId: string; metadata: { parley: ThreadEventData['run-start'] } }
  | { type: 'TEXT_MESSAGE_START'; messageId: string; role: 'assistant' }
  | { type: 'TEXT_MESSAGE_CONTENT'; messageId: string; delta: string }
  | { type: 'TEXT_MESSAGE_END'; messageId: string }
  | { type: 'TOOL_CALL_START'; toolCallId: string; toolCallName: string; parentMessageId: string }
  | { type: 'TOOL_CALL_ARGS'; toolCallId: string; delta: string }
  | { type: 'TOOL_CALL_END'; toolCallId: string }
  | { type: 'TOOL_CALL_RESULT'; messageId: string; toolCallId: string; content: string; role: 'tool' }
  | {
      type: 'RUN_FINISHED';
      threadId: string;
      runId: string;
      outcome?: { type: 'cancelled' };
      result: ThreadEventData['run-end'];
      usage: AgUiTokenUsage[];
    }
  | { type: 'RUN_ERROR'; message: string; code: string; metadata?: { parley: ThreadEventData['run-error'] } }
  | { type: 'CUSTOM'; name: 'parley.tool-approval-request'; value: ThreadEventData['tool-approval-request'] }
  | { type: 'CUSTOM'; name: 'parley.live-status'; value: ThreadEventData['live-status'] };

export interface AgUiTokenUsage {
  model?: string;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/** The ids the client chose for the run (echoed in RUN_STARTED and RUN_FINISHED), and Parley's run. */
export interface AgUiRunScope {
  threadId: string;
  runId: string;
  parleyRunId: string;
}

export interface AgUiView {
  toMessages(event: LiveEvent): SseMessage[];
}

/**
 * A converter for one stream. It keeps the text message it has opened, so that every
 * TEXT_MESSAGE_START it sends is closed before the run's last event (`verifyEvents` refuses a
 * RUN_FINISHED with a message still open: a run whose thread was deleted ends without
 * `message-end`). Events of other runs and of messages stored without a run are left out: the
 * stream is the run the request started.
 */
export function createAgUiView(scope: AgUiRunScope): AgUiView {
  let openMessageId: string | null = null;
  // Calls announced with their approval request: their `tool-call-start` adds nothing.
  const announced = new Set<string>();
  const closeOpenMessage = (): AgUiEvent[] => {
    if (openMessageId === null) return [];
    const messageId = openMessageId;
    openMessageId = null;
    return [{ type: 'TEXT_MESSAGE_END', messageId }];
  };
  const eventsOf = (event: LiveEvent): AgUiEvent[] => {
    switch (event.type) {
      case 'run-start':
        return [
          { type: 'RUN_STARTED', threadId: scope.threadId, runId: scope.runId, metadata: { parley: event.data } },
        ];
      case 'message-start':
        if (event.data.role !== 'assistant') return [];
        openMessageId = event.data.message_id;
        return [{ type: 'TEXT_MESSAGE_START', messageId: event.data.message_id, role: 'assistant' }];
      case 'text-delta':
        return event.data.message_id === openMessageId && event.data.delta !== ''
          ? [{ type: 'TEXT_MESSAGE_CONTENT', messageId: event.data.message_id, delta: event.data.delta }]
          : [];
      case 'message-end':
        return event.data.message.id === openMessageId ? closeOpenMessage() : [];
      case 'tool-call-start':
        return announced.has(event.data.tool_call_id) ? [] : toolCallEvents(event.data);
      case 'tool-approval-request':
        // AG-UI has no approval event: the call as the model asked for it, and Parley's request
        // as a CUSTOM event (decide it with the approve and reject routes).
        announced.add(event.data.tool_call_id);
        return [
          ...toolCallEvents(event.data),
          { type: 'CUSTOM', name: 'parley.tool-approval-request', value: event.data },
        ];
      case 'tool-call-end':
        return [toolResultEvent(event.data)];
      // Not part of a run's conversation in AG-UI.
      case 'feedback-created':
        return [];
      // The stream's own notice (Redis away or back: docs/streaming.md), as a CUSTOM event.
      case 'live-status':
        return [{ type: 'CUSTOM', name: 'parley.live-status', value: event.data }];
      case 'run-end':
        return [...closeOpenMessage(), runFinished(scope, event.data)];
      case 'run-error':
        return [
          ...closeOpenMessage(),
          {
            type: 'RUN_ERROR',
            message: event.data.error.message,
            code: event.data.error.code,
            metadata: { parley: event.data },
          },
        ];
    }
  };
  return {
    toMessages: (event) => {
      // Only this run's events: the thread may also get messages stored without a run meanwhile
      // (their `message-start` has no run; a `message-end` counts only for the open message).
      if ('run_id' in event.data && event.data.run_id !== scope.parleyRunId) return [];
      return eventsOf(event).map(toMessage);
    },
  };
}

/**
 * The id of a tool call in AG-UI. A model's own call ids are unique only within its reply (the
 * demo model says `call_demo_1` in every turn), while an AG-UI client keeps the whole conversation
 * and finds a call by its id across all of it; the reply's message id makes the id unique.
 */
export function agUiToolCallId(messageId: string, toolCallId: string): string {
  return `${messageId}:${toolCallId}`;
}

function toolCallEvents(data: ThreadEventData['tool-call-start' | 'tool-approval-request']): AgUiEvent[] {
  const toolCallId = agUiToolCallId(data.message_id, data.tool_call_id);
  return [
    { type: 'TOOL_CALL_START', toolCallId, toolCallName: data.tool_name, parentMessageId: data.message_id },
    // Parley has a call's arguments whole when it starts: they go as one delta.
    { type: 'TOOL_CALL_ARGS', toolCallId, delta: JSON.stringify(data.arguments) },
    { type: 'TOOL_CALL_END', toolCallId },
  ];
}

/** The tool's answer, as the tool message AG-UI inserts after the call: its result as JSON, or the error text. */
function toolResultEvent(data: ThreadEventData['tool-call-end']): AgUiEvent {
  const toolCallId = agUiToolCallId(data.message_id, data.tool_call_id);
  return {
    type: 'TOOL_CALL_RESULT',
    messageId: `${toolCallId}:result`,
    toolCallId,
    content: data.error ?? JSON.stringify(data.result ?? null),
    role: 'tool',
  };
}

function runFinished(scope: AgUiRunScope, data: ThreadEventData['run-end']): AgUiEvent {
  const model = data.message.metadata.model;
  const usage: AgUiTokenUsage = {
    ...(typeof model === 'string' ? { model } : {}),
    inputTokens: data.usage.input_tokens,
    outputTokens: data.usage.output_tokens,
    totalTokens: data.usage.total_tokens,
  };
  return {
    type: 'RUN_FINISHED',
    threadId: scope.threadId,
    runId: scope.runId,
    // Absent means success; a cancelled run is not one, and not an error either.
    ...(data.status === 'cancelled' ? { outcome: { type: 'cancelled' as const } } : {}),
    result: data,
    usage: [usage],
  };
}

function toMessage(event: AgUiEvent): SseMessage {
  return { data: JSON.stringify(event) };
}

/** Where an AG-UI client finds what it missed: it has no stream to resume, the reply is stored. */
const STORED_REPLY_HINT = 'The run goes on and its reply is stored: read it with GET …/messages.';

/**
 * How the SSE layer ends an AG-UI stream: as RUN_ERROR, the one event AG-UI has for a run that
 * stops early, with Parley's error code (`slow_consumer`, `key_revoked`, `internal_error`;
 * `service_unavailable` at shutdown). The run itself goes on and is stored either way.
 */
export const AG_UI_DIALECT: SseDialect = {
  failure: (error: AppError) => [
    toMessage({
      type: 'RUN_ERROR',
      // Parley's own text for it says to resume with Last-Event-ID, which AG-UI cannot.
      message:
        error.code === 'slow_consumer'
          ? `The client did not read the stream fast enough. ${STORED_REPLY_HINT}`
          : error.message,
      code: error.code,
    }),
  ],
  shutdown: [
    toMessage({
      type: 'RUN_ERROR',
      message: `The server is shutting down. ${STORED_REPLY_HINT}`,
      code: 'service_unavailable',
    }),
  ],
};
