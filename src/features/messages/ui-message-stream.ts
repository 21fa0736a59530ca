import { CitationList } from '../../domain/citations.js';
import type { JsonObject } from '../../domain/models.js';
import type { ThreadEventData } from '../../domain/thread-events.js';
import type { AppError } from '../../errors.js';
import type { SseDialect, SseMessage } from '../../http/sse.js';
import { formatEventId } from '../../runtime/event-id.js';
import type { LiveEvent } from '../../runtime/live-bus.js';
import { sourceChunk } from './ui-source-parts.js';

/** The response header by which the AI SDK recognises its UI message stream. */
export const AI_SDK_HEADERS = { 'x-vercel-ai-ui-message-stream': 'v1' } as const;

const DONE: SseMessage = { data: '[DONE]' };

/**
 * The AI SDK says a stream's failure and the server's shutdown as an `error` chunk (its client
 * then shows the error; `useChat({resume: true})` picks the run up again after a reload).
 */
export const AI_SDK_DIALECT: SseDialect = {
  failure: (error: AppError) => [chunkMessage({ type: 'error', errorText: `${error.code}: ${error.message}` }), DONE],
  shutdown: [
    { retry: 1000, data: JSON.stringify({ type: 'error', errorText: 'shutdown: the server is stopping; reconnect' }) },
    DONE,
  ],
};

/** Parley's finish reasons as the AI SDK names them; `max_steps`: the model still wanted tools. */
const FINISH_REASONS: Readonly<Record<string, string>> = {
  stop: 'stop',
  length: 'length',
  'content-filter': 'content-filter',
  max_steps: 'tool-calls',
};

/**
 * One stream's view of the thread log as the Vercel AI SDK UI message stream (the chunks of
 * `uiMessageChunkSchema` in the `ai` package). The SDK's reader is a state machine, so this is
 * one too, fed the stream's events in order:
 *
 * - a text part is opened (`text-start`) before its first delta and closed (`text-end`) before
 *   anything else is said: a tool call, the next step, the end;
 * - each model call of the run (the `step` its deltas and tool calls carry) is one
 *   `start-step` … `finish-step`, so two model calls are two steps;
 * - a call that needs approval is `tool-input-available` then the SDK's `tool-approval-request`
 *   (its `approvalId` is the call id, which the approve and reject routes take); a rejected
 *   call ends with `tool-output-denied`, an approved one as any other call;
 * - the passages a knowledge search found follow its output as source chunks (`source-url`,
 *   `source-document`), each chunk once and at most MAX_CITATIONS: the reply's
 *   `metadata.citations`, as they are found;
 * - SSE ids stay unique: the chunks of one log event share its position, so only the last of
 *   them carries the event's `id:`. A client that reconnects with `Last-Event-ID` gets whole
 *   events again, never half of one.
 *
 * The stream covers the assistant's reply: a follower starting mid-run should start from the
 * run's `run-start` (the `ui-messages` resume does), but a stream joined later still only says
 * things the SDK accepts (parts are opened when first seen).
 */
export class UiMessageStreamTranslator {
  #step = 0;
  #text: { id: string } | null = null;
  #texts = 0;
  readonly #toolInputsSent = new Set<string>();
  readonly #sources = new CitationList();

  toMessages(event: LiveEvent): SseMessage[] {
    const chunks = this.#chunksOf(event);
    const messages = chunks.map(chunkMessage);
    const last = messages.at(-1);
    if (last) last.id = formatEventId(event.id);
    if (event.type === 'run-end' || event.type === 'run-error') messages.push(DONE);
    return messages;
  }

  #chunksOf(event: LiveEvent): JsonObject[] {
    switch (event.type) {
      case 'run-start':
        this.#reset();
        return [{ type: 'start', messageId: event.data.message_id, messageMetadata: { run_id: event.data.run_id } }];
      case 'text-delta':
        return [
          ...this.#enterStep(event.data.step),
          ...this.#openText(event.data.message_id),
          { type: 'text-delta', id: this.#text!.id, delta: event.data.delta },
        ];
      case 'tool-call-start':
        this.#toolInputsSent.add(event.data.tool_call_id);
        return [...this.#enterStep(event.data.step), ...this.#closeText(), toolInput(event.data)];
      case 'tool-call-end':
        return [...this.#enterStep(event.data.step), ...this.#closeText(), ...this.#toolOutput(event.data)];
      case 'tool-approval-request':
        // The SDK's own approval chunk names a tool part it has seen: its input goes first.
        this.#toolInputsSent.add(event.data.tool_call_id);
        return [
          ...this.#enterStep(event.data.step),
          ...this.#closeText(),
          toolInput(event.data),
          { type: 'tool-approval-request', approvalId: event.data.tool_call_id, toolCallId: event.data.tool_call_id },
        ];
      case 'message-end':
        return event.data.message.role === 'assistant' ? this.#closeText() : [];
      // The stream's own notice (docs/streaming.md): a transient data part, kept in no message.
      case 'live-status':
        return [{ type: 'data-parley-live-status', data: event.data, transient: true }];
      case 'run-end':
        return [...this.#closeStep(), { type: 'finish', ...finishOf(event.data) }];
      case 'run-error':
        return [
          ...this.#closeStep(),
          { type: 'error', errorText: event.data.error.message },
          {
            type: 'finish',
            finishReason: 'error',
            messageMetadata: { run_id: event.data.run_id, status: event.data.status },
          },
        ];
      // The AI SDK's chunks have no rating: a rating is not part of the reply.
      case 'message-start':
      case 'feedback-created':
        return [];
    }
  }

  #reset(): void {
    this.#step = 0;
    this.#text = null;
    this.#toolInputsSent.clear();
    this.#sources.clear();
  }

  /** Moves to model call `step`: the open step (and its text) ends, the next one starts. */
  #enterStep(step: number): JsonObject[] {
    if (step === this.#step) return [];
    const chunks = this.#closeStep();
    this.#step = step;
    chunks.push({ type: 'start-step' });
    return chunks;
  }

  #closeStep(): JsonObject[] {
    if (this.#step === 0) return [];
    const chunks = this.#closeText();
    chunks.push({ type: 'finish-step' });
    this.#step = 0;
    return chunks;
  }

  #openText(messageId: string): JsonObject[] {
    if (this.#text) return [];
    this.#texts += 1;
    this.#text = { id: `${messageId}-text-${this.#texts}` };
    return [{ type: 'text-start', id: this.#text.id }];
  }

  #closeText(): JsonObject[] {
    if (!this.#text) return [];
    const { id } = this.#text;
    this.#text = null;
    return [{ type: 'text-end', id }];
  }

  /** A result whose call this stream did not see start (joined mid-call) gets its input first. */
  #toolOutput(data: ThreadEventData['tool-call-end']): JsonObject[] {
    const chunks: JsonObject[] = [];
    if (!this.#toolInputsSent.has(data.tool_call_id)) {
      this.#toolInputsSent.add(data.tool_call_id);
      chunks.push(toolInput({ ...data, arguments: {} }));
    }
    if (data.approval === 'rejected') chunks.push({ type: 'tool-output-denied', toolCallId: data.tool_call_id });
    else if (data.error === null)
      chunks.push({
        type: 'tool-output-available',
        toolCallId: data.tool_call_id,
        output: (data.result ?? null) as JsonObject,
      });
    else chunks.push({ type: 'tool-output-error', toolCallId: data.tool_call_id, errorText: data.error });
    for (const citation of this.#sources.add(data.citations ?? [])) chunks.push(sourceChunk(citation));
    return chunks;
  }
}

function toolInput(data: { tool_call_id: string; tool_name: string; arguments: JsonObject }): JsonObject {
  return {
    type: 'tool-input-available',
    toolCallId: data.tool_call_id,
    toolName: data.tool_name,
    input: data.arguments,
  };
}

function finishOf(data: ThreadEventData['run-end']): JsonObject {
  const messageMetadata = { run_id: data.run_id, status: data.status, finish_reason: data.finish_reason };
  return { finishReason: FINISH_REASONS[data.finish_reason] ?? 'other', messageMetadata };
}

function chunkMessage(chunk: JsonObject): SseMessage {
  return { data: JSON.stringify(chunk) };
}
