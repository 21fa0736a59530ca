import type { JsonObject } from '../../../domain/models.js';
import type { LanguageModel, ModelMessage, ModelRequest, ModelStreamPart, ModelToolCall } from '../../model-port.js';
import { expressionIn } from './find-expression.js';

/**
 * The offline demo model: a real provider of the model port that needs no network. It is
 * deterministic, streams its answer word by word at a visible pace, calls the agent's tools when
 * the user's words name them, and then answers from their results. It says it is a demo.
 */
export interface DemoModelOptions {
  /** Pace of the stream; 0 streams without delay. */
  wordsPerSecond: number;
}

export const DEMO_MODEL_ID = 'demo';

const TIME_WORDS = /\b(?:time|clock|date|today|day is it)\b/i;

export function createDemoModel(options: DemoModelOptions): LanguageModel {
  return {
    id: DEMO_MODEL_ID,
    stream: (request) => streamDemo(request, options),
  };
}

async function* streamDemo(request: ModelRequest, options: DemoModelOptions): AsyncIterable<ModelStreamPart> {
  const last = request.messages.at(-1);
  const available = new Set(request.tools.map((tool) => tool.name));
  if (last?.role === 'user') {
    const calls = toolCallsFor(last.content, available);
    if (calls.length > 0) {
      for (const call of calls) yield { type: 'tool-call', ...call };
      yield { type: 'finish', finishReason: 'tool-calls', usage: usageFor(request.messages, 0) };
      return;
    }
  }
  const text = last?.role === 'tool' ? answerFromToolResults(request.messages) : cannedAnswer(last);
  const words = text.match(/\S+\s*/g) ?? [];
  const delayMs = options.wordsPerSecond > 0 ? 1000 / options.wordsPerSecond : 0;
  for (const word of words) {
    if (delayMs > 0) await sleep(delayMs, request.signal);
    request.signal.throwIfAborted();
    yield { type: 'text-delta', text: word };
  }
  yield { type: 'finish', finishReason: 'stop', usage: usageFor(request.messages, words.length) };
}

/** The tools the user's words name, in a fixed order, with their arguments. */
function toolCallsFor(content: string, available: Set<string>): ModelToolCall[] {
  const calls: ModelToolCall[] = [];
  const expression = available.has('calculator') ? expressionIn(content) : null;
  if (expression !== null) {
    calls.push({ toolCallId: `call_demo_${calls.length + 1}`, toolName: 'calculator', input: { expression } });
  }
  if (available.has('current_time') && TIME_WORDS.test(content)) {
    calls.push({ toolCallId: `call_demo_${calls.length + 1}`, toolName: 'current_time', input: {} });
  }
  return calls;
}

/** Answers from the results of the tool calls that follow the last assistant turn. */
function answerFromToolResults(messages: ModelMessage[]): string {
  const results: string[] = [];
  for (let index = messages.length - 1; index >= 0 && messages[index]!.role === 'tool'; index -= 1) {
    const message = messages[index] as Extract<ModelMessage, { role: 'tool' }>;
    results.unshift(describeResult(message));
  }
  return `${results.join(' ')} (Answered by Parley's offline demo model.)`;
}

function describeResult(message: Extract<ModelMessage, { role: 'tool' }>): string {
  if (message.isError) return `The ${message.toolName} tool failed: ${String(message.result)}.`;
  const result = (message.result ?? {}) as JsonObject;
  if (message.toolName === 'calculator') return `${String(result.expression)} = ${String(result.result)}.`;
  if (message.toolName === 'current_time') return `It is ${String(result.formatted ?? result.iso)}.`;
  return `The ${message.toolName} tool returned ${JSON.stringify(message.result)}.`;
}

function cannedAnswer(last: ModelMessage | undefined): string {
  const said = last && 'content' in last ? last.content.replace(/\s+/g, ' ').trim().slice(0, 200) : '';
  return [
    "This is Parley's offline demo model, so this answer is canned.",
    said ? `You said: "${said}".` : '',
    'Ask "what time is it" or "calculate 17*23" to see tools at work, or set configuration.model to a real model such as "openai:gpt-4.1-mini".',
  ]
    .filter(Boolean)
    .join(' ');
}

/** A deterministic stand-in for token counts: words in, words out. */
function usageFor(messages: ModelMessage[], outputWords: number) {
  const inputTokens = messages.reduce(
    (total, message) => total + ('content' in message ? (message.content.match(/\S+/g) ?? []).length : 1),
    0,
  );
  return { inputTokens, outputTokens: outputWords };
}

function sleep(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
