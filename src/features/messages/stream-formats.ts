import { formatEventId } from '../../runtime/event-id.js';
import type { LiveEvent } from '../../runtime/live-bus.js';
import { PARLEY_DIALECT, type SseDialect, type SseMessage } from '../../http/sse.js';
import { AI_SDK_DIALECT, AI_SDK_HEADERS, UiMessageStreamTranslator } from './ui-message-stream.js';

/**
 * One event log, two views. `parley` (the default) sends every event with its name and JSON
 * payload (docs/streaming.md). `ai-sdk` sends the Vercel AI SDK UI message stream, so `useChat`
 * clients work unchanged; it only covers the assistant's reply (ui-message-stream.ts).
 */
export type StreamFormat = 'parley' | 'ai-sdk';

export interface StreamView {
  /** Response headers the view's clients look for. */
  headers: Record<string, string>;
  /** How the stream's own failure and the server's shutdown are said in this format. */
  dialect: SseDialect;
  /** The messages of one stream's events, fed in order: a view may keep state along a stream. */
  translator(): (event: LiveEvent) => readonly SseMessage[];
  /**
   * Sent after the events of a stream that has no run (a stored non-user message): AI SDK
   * clients wait for `[DONE]`, which otherwise comes with `run-end`.
   */
  end: readonly SseMessage[];
}

const toParleyMessages = (event: LiveEvent): SseMessage[] => [toParleyMessage(event)];

export const STREAM_VIEWS: Readonly<Record<StreamFormat, StreamView>> = {
  parley: { headers: {}, dialect: PARLEY_DIALECT, translator: () => toParleyMessages, end: [] },
  'ai-sdk': {
    headers: { ...AI_SDK_HEADERS },
    dialect: AI_SDK_DIALECT,
    translator: () => {
      const translator = new UiMessageStreamTranslator();
      return (event) => translator.toMessages(event);
    },
    end: [{ data: '[DONE]' }],
  },
};

/**
 * The event's name goes in `event:` and, first, as `type` in its JSON, so a client that only
 * listens to `onmessage` (or one that ignores event names) still tells events apart.
 */
export function toParleyMessage(event: LiveEvent): SseMessage {
  const data = typedJson(event.type, event.data);
  // A stream's own notice is no place in the log: without an id, a client's Last-Event-ID stays.
  if (event.type === 'live-status') return { event: event.type, data };
  return { id: formatEventId(event.id), event: event.type, data };
}

/** `{"type":<type>, …data}` without copying `data`: its JSON text with the type spliced in. */
export function typedJson(type: LiveEvent['type'], data: object): string {
  const json = JSON.stringify(data);
  return json === '{}' ? `{"type":"${type}"}` : `{"type":"${type}",${json.slice(1)}`;
}

export function isRunEnd(event: LiveEvent, runId: string): boolean {
  return (event.type === 'run-end' || event.type === 'run-error') && event.data.run_id === runId;
}
