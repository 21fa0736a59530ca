import type { JsonObject } from '../domain/models.js';

/**
 * Parley's own small model interface. Every provider (the offline demo model, and the Vercel AI
 * SDK providers behind an adapter) streams the same discriminated union of parts, so the runtime
 * never sees a vendor's wire format.
 */
export type ModelMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ModelToolCall[] }
  | { role: 'tool'; toolCallId: string; toolName: string; result: unknown; isError: boolean };

export interface ModelToolCall {
  toolCallId: string;
  toolName: string;
  input: JsonObject;
}

export interface ModelToolDefinition {
  name: string;
  description: string;
  inputSchema: JsonObject;
}

export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
}

export type FinishReason = 'stop' | 'tool-calls' | 'length' | 'content-filter' | 'error' | 'other';

export type ModelStreamPart =
  | { type: 'text-delta'; text: string }
  | ({ type: 'tool-call' } & ModelToolCall)
  | { type: 'finish'; finishReason: FinishReason; usage: ModelUsage };

export interface ModelRequest {
  system: string;
  messages: ModelMessage[];
  tools: ModelToolDefinition[];
  temperature?: number | undefined;
  maxOutputTokens?: number | undefined;
  signal: AbortSignal;
}

export interface LanguageModel {
  /** As configured, e.g. `demo` or `openai:gpt-4.1-mini`. */
  readonly id: string;
  /** Streams one model turn. Errors are thrown (as ModelError where the cause is known). */
  stream(request: ModelRequest): AsyncIterable<ModelStreamPart>;
}

export type ModelErrorKind = 'not_configured' | 'rate_limited' | 'provider_error' | 'invalid_model';

export class ModelError extends Error {
  constructor(
    readonly kind: ModelErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ModelError';
  }
}
