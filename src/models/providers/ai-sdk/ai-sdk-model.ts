import {
  jsonSchema,
  streamText,
  tool,
  type LanguageModel as AiSdkLanguageModel,
  type ModelMessage as AiSdkMessage,
  type ToolSet,
} from 'ai';
import type { JsonObject } from '../../../domain/models.js';
import {
  ModelError,
  type FinishReason,
  type LanguageModel,
  type ModelMessage,
  type ModelRequest,
  type ModelStreamPart,
} from '../../model-port.js';

/**
 * Adapts any Vercel AI SDK provider model to Parley's model port. One call streams one model
 * turn: tools are declared without `execute`, so the SDK returns tool calls to our runtime
 * instead of running them. The SDK retries 429/5xx with backoff (two retries) before failing.
 */
export function createAiSdkModel(id: string, model: AiSdkLanguageModel): LanguageModel {
  return {
    id,
    async *stream(request: ModelRequest): AsyncIterable<ModelStreamPart> {
      const result = streamText({
        model,
        system: request.system,
        messages: request.messages.map(toAiSdkMessage),
        tools: toToolSet(request),
        temperature: request.temperature,
        maxOutputTokens: request.maxOutputTokens,
        abortSignal: request.signal,
        maxRetries: 2,
        // Errors arrive as `error` parts below and are reported by the runtime; the SDK's default
        // handler would also print them to the console.
        onError: () => undefined,
      });
      let streamError: unknown;
      for await (const part of withErrorsAsParts(result.fullStream, request.signal)) {
        switch (part.type) {
          case 'text-delta':
            if (part.text !== '') yield { type: 'text-delta', text: part.text };
            break;
          case 'tool-call':
            yield {
              type: 'tool-call',
              toolCallId: part.toolCallId,
              toolName: part.toolName,
              input: (part.input ?? {}) as JsonObject,
            };
            break;
          case 'finish':
            // A provider that never said why it stopped was cut short (a body that ended early, a
            // page that was no event stream at all): the SDK reports a finish without a reason.
            if (part.rawFinishReason === undefined) {
              streamError = new Error('The response ended without a finish reason');
              break;
            }
            yield {
              type: 'finish',
              finishReason: toFinishReason(part.finishReason),
              usage: {
                inputTokens: part.totalUsage.inputTokens ?? 0,
                outputTokens: part.totalUsage.outputTokens ?? 0,
              },
            };
            break;
          case 'error':
            streamError = part.error;
            break;
          case 'abort':
            request.signal.throwIfAborted();
            break;
          default:
            break;
        }
        if (streamError !== undefined) break;
      }
      if (streamError !== undefined) throw toModelError(streamError);
    },
  };
}

/**
 * What breaks the response body itself (a connection cut mid-stream) the SDK throws instead of
 * sending it as an `error` part; this makes it one, so every provider failure takes one path.
 */
async function* withErrorsAsParts<Part>(stream: AsyncIterable<Part>, signal: AbortSignal): AsyncIterable<Part> {
  try {
    yield* stream;
  } catch (error) {
    // An aborted request ends with the abort's reason, as on an `abort` part.
    signal.throwIfAborted();
    yield { type: 'error', error } as Part;
  }
}

function toToolSet(request: ModelRequest): ToolSet | undefined {
  if (request.tools.length === 0) return undefined;
  const tools: ToolSet = {};
  for (const definition of request.tools) {
    tools[definition.name] = tool({
      description: definition.description,
      inputSchema: jsonSchema(definition.inputSchema as Parameters<typeof jsonSchema>[0]),
    });
  }
  return tools;
}

function toAiSdkMessage(message: ModelMessage): AiSdkMessage {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user':
      return { role: 'user', content: message.content };
    case 'assistant':
      return {
        role: 'assistant',
        content: [
          ...(message.content === '' ? [] : [{ type: 'text' as const, text: message.content }]),
          ...(message.toolCalls ?? []).map((call) => ({
            type: 'tool-call' as const,
            toolCallId: call.toolCallId,
            toolName: call.toolName,
            input: call.input,
          })),
        ],
      };
    case 'tool':
      return {
        role: 'tool',
        content: [
          {
            type: 'tool-result',
            toolCallId: message.toolCallId,
            toolName: message.toolName,
            output: message.isError
              ? { type: 'error-text', value: String(message.result) }
              : { type: 'json', value: (message.result ?? null) as never },
          },
        ],
      };
  }
}

function toFinishReason(reason: string): FinishReason {
  switch (reason) {
    case 'stop':
    case 'length':
    case 'content-filter':
    case 'tool-calls':
    case 'error':
      return reason;
    default:
      return 'other';
  }
}

/**
 * The message tenants see. An HTTP answer from the provider keeps its status and message (for
 * example "model not found"); anything else — a refused connection, a cut or malformed stream —
 * gets a fixed text, because its details name the operator's hosts. Headers and the request,
 * which may hold keys, are never included. The original error stays as `cause` for the logs.
 */
function toModelError(caught: unknown): ModelError {
  if (caught instanceof ModelError) return caught;
  // After its retries the SDK throws a RetryError; the provider's answer is its last error.
  const error = (caught as { lastError?: unknown }).lastError ?? caught;
  const status = (error as { statusCode?: number }).statusCode;
  const message = error instanceof Error ? error.message : String(error);
  if (status === 429)
    return new ModelError('rate_limited', `The model provider is rate limiting: ${message}`, { cause: error });
  // A body that broke after a 200 is no answer from the provider: it gets the fixed text below.
  if (status !== undefined && status >= 400)
    return new ModelError('provider_error', `The model provider answered ${status}: ${message}`, { cause: error });
  return new ModelError('provider_error', 'The model provider could not be reached or sent a broken response', {
    cause: error,
  });
}
