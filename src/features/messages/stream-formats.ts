import type { JsonObject } from '../../domain/models.js';
import { formatEventId } from '../../runtime/event-id.js';
import type { LiveEvent } from '../../runtime/live-bus.js';
import type { SseMessage } from '../../http/sse.js';

/**
 * One event log, two views. `parley` (the default) sends every event with its name and JSON
 * payload (docs/streaming.md). `ai-sdk` sends the Vercel AI SDK UI message stream, so `useChat`
 * clients work unchanged; it only covers the assistant's reply.
 */
export type StreamFormat = 'parley' | 'ai-sdk';

export const AI_SDK_HEADERS = { 'x-vercel-ai-ui-message-stream': 'v1' } as const;

export interface StreamView {
  /** Response headers the view's clients look for. */
  headers: Record<string, string>;
  toMessages(event: LiveEvent): SseMessage[];
  /**
   * Sent after the events of a stream that has no run (a stored non-user message): AI SDK
   * clients wait for `[DONE]`, which otherwise comes with `run-end`.
   */
  end: readonly SseMessage[];
}

export const STREAM_VIEWS: Readonly<Record<StreamFormat, StreamView>> = {
  parley: { headers: {}, toMessages: (event) => [toParleyMessage(event)], end: [] },
  'ai-sdk': { headers: { ...AI_SDK_HEADERS }, toMessages: toAiSdkMessages, end: [{ data: '[DONE]' }] },
};

/**
 * The event's name goes in `event:` and, first, as `type` in its JSON, so a client that only
 * listens to `onmessage` (or one that ignores event names) still tells events apart.
 */
export function toParleyMessage(event: LiveEvent): SseMessage {
  return { id: formatEventId(event.id), event: event.type, data: typedJson(event.type, event.data) };
}

/** `{"type":<type>, …data}` without copying `data`: its JSON text with the type spliced in. */
export function typedJson(type: LiveEvent['type'], data: object): string {
  const json = JSON.stringify(data);
  return json === '{}' ? `{"type":"${type}"}` : `{"type":"${type}",${json.slice(1)}`;
}

/** The AI SDK UI chunks for one event (none for events that view does not show). */
export function toAiSdkMessages(event: LiveEvent): SseMessage[] {
  const id = formatEventId(event.id);
  const chunk = (value: JsonObject): SseMessage => ({ id, data: JSON.stringify(value) });
  switch (event.type) {
    case 'run-start':
      return [chunk({ type: 'start', messageId: event.data.message_id }), chunk({ type: 'start-step' })];
    case 'message-start':
      return event.data.role === 'assistant' ? [chunk({ type: 'text-start', id: event.data.message_id })] : [];
    case 'text-delta':
      return [chunk({ type: 'text-delta', id: event.data.message_id, delta: event.data.delta })];
    case 'tool-call-start':
      return [
        chunk({
          type: 'tool-input-available',
          toolCallId: event.data.tool_call_id,
          toolName: event.data.tool_name,
          input: event.data.arguments,
        }),
      ];
    case 'tool-call-end':
      return event.data.error
        ? [chunk({ type: 'tool-output-error', toolCallId: event.data.tool_call_id, errorText: event.data.error })]
        : [
            chunk({
              type: 'tool-output-available',
              toolCallId: event.data.tool_call_id,
              output: event.data.result ?? null,
            }),
          ];
    case 'message-end':
      return event.data.message.role === 'assistant' ? [chunk({ type: 'text-end', id: event.data.message.id })] : [];
    case 'run-end':
      return [chunk({ type: 'finish-step' }), chunk({ type: 'finish' }), { data: '[DONE]' }];
    case 'run-error':
      return [
        chunk({ type: 'error', errorText: event.data.error.message }),
        chunk({ type: 'finish' }),
        { data: '[DONE]' },
      ];
  }
}

export function isRunEnd(event: LiveEvent, runId: string): boolean {
  return (event.type === 'run-end' || event.type === 'run-error') && event.data.run_id === runId;
}
