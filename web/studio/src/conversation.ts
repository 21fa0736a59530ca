import type { Schemas } from './api.ts';
import type { Citation, StreamEvent } from './sse.ts';

/** One tool call as the playground and the thread view show it. */
export interface ToolView {
  id: string;
  name: string;
  arguments: unknown;
  result?: unknown;
  error?: string | null;
  startTime?: string | null;
  endTime?: string | null;
  /** `pending` while it waits for a person; `approved` / `rejected` once decided. */
  approval?: 'pending' | 'approved' | 'rejected';
}

export interface MessageView {
  id: string;
  role: string;
  text: string;
  tools: ToolView[];
  citations: Citation[];
  runId: string | null;
  status: string;
  feedback: string | null;
}

/** A stored message (GET …/messages) in the shape the views draw. */
export function fromStored(message: Schemas['ChatMessage']): MessageView {
  const metadata = message.metadata as Record<string, unknown>;
  const tools: ToolView[] = (message.tool_calls as (Schemas['ToolCall'] & { id?: string; result?: unknown })[]).map(
    (call, index) => ({
      id: call.id ?? `${message.id}-${index}`,
      name: call.tool_name,
      arguments: call.arguments,
      result: call.result,
      error: call.error,
      startTime: call.start_time,
      endTime: call.end_time,
    }),
  );
  const pending =
    (metadata.pending_approvals as { tool_call_id: string; tool_name: string; arguments: unknown }[]) ?? [];
  for (const call of pending) {
    tools.push({ id: call.tool_call_id, name: call.tool_name, arguments: call.arguments, approval: 'pending' });
  }
  return {
    id: message.id,
    role: message.role,
    text: message.content,
    tools,
    citations: (metadata.citations as Citation[]) ?? [],
    runId: (metadata.run_id as string) ?? null,
    status: String(metadata.status ?? 'completed'),
    feedback: message.feedback?.feedback_type ?? null,
  };
}

const blank = (id: string, role: string, runId: string | null): MessageView => ({
  id,
  role,
  text: '',
  tools: [],
  citations: [],
  runId,
  status: 'in_progress',
  feedback: null,
});

function updateTool(message: MessageView, id: string, change: (tool: ToolView | undefined) => ToolView): MessageView {
  const found = message.tools.find((tool) => tool.id === id);
  const tools = found
    ? message.tools.map((tool) => (tool.id === id ? change(tool) : tool))
    : [...message.tools, change(undefined)];
  return { ...message, tools };
}

/** Applies one stream event to the messages shown (a pure step: the page keeps the array in state). */
export function applyEvent(messages: MessageView[], event: StreamEvent): MessageView[] {
  const id = event.message_id ?? event.message?.id;
  if (event.type === 'message-start' && id) {
    return messages.some((message) => message.id === id)
      ? messages
      : [...messages, blank(id, event.role ?? 'assistant', event.run_id ?? null)];
  }
  return messages.map((message) => (message.id === id ? applyToMessage(message, event) : message));
}

function applyToMessage(message: MessageView, event: StreamEvent): MessageView {
  const callId = event.tool_call_id ?? '';
  const base = { id: callId, name: event.tool_name ?? '', arguments: event.arguments };
  switch (event.type) {
    case 'text-delta':
      return { ...message, text: message.text + (event.delta ?? '') };
    case 'tool-approval-request':
      return {
        ...updateTool(message, callId, (tool) => ({ ...base, ...tool, approval: 'pending' })),
        status: 'awaiting_approval',
      };
    case 'tool-call-start':
      return updateTool(message, callId, (tool) => ({
        ...base,
        ...tool,
        arguments: event.arguments,
        startTime: event.start_time,
      }));
    case 'tool-call-end':
      return {
        ...updateTool(message, callId, (tool) => ({
          ...base,
          ...tool,
          result: event.result,
          error: event.error === undefined || event.error === null ? null : String(event.error),
          endTime: event.end_time,
          ...(event.approval ? { approval: event.approval as 'approved' | 'rejected' } : {}),
        })),
        citations: [...message.citations, ...(event.citations ?? [])],
        status: 'in_progress',
      };
    case 'message-end':
      return {
        ...message,
        text: event.message?.content ?? message.text,
        status: String(event.message?.metadata?.status ?? 'completed'),
      };
    case 'run-end':
    case 'run-error':
      return { ...message, status: event.status ?? 'completed' };
    default:
      return message;
  }
}
