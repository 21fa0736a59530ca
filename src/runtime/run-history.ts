import type { ConversationMessage } from '../domain/runs.js';
import type { ModelMessage } from '../models/model-port.js';
import { modelResult } from './tool-results.js';

/**
 * Turns stored messages into the model's conversation. An assistant message that used tools
 * becomes: the assistant's tool calls, the tools' results, then the assistant's text. Messages
 * imported with role `tool` stay data: they reach the model as user-side text, never as
 * instructions. Stored results go to the model bounded by `resultBytes`, like fresh ones.
 */
export function toModelMessages(history: ConversationMessage[], resultBytes: number): ModelMessage[] {
  const messages: ModelMessage[] = [];
  for (const message of history) {
    switch (message.role) {
      case 'user':
        messages.push({ role: 'user', content: message.content });
        break;
      case 'system':
        messages.push({ role: 'system', content: message.content });
        break;
      case 'tool':
        messages.push({ role: 'user', content: `[tool output]\n${message.content}` });
        break;
      case 'assistant': {
        const finished = message.tool_calls.filter((call) => call.end_time !== null);
        if (finished.length > 0) {
          messages.push({
            role: 'assistant',
            content: '',
            toolCalls: finished.map((call) => ({
              toolCallId: `call_${call.id}`,
              toolName: call.tool_name,
              input: call.arguments,
            })),
          });
          for (const call of finished) {
            messages.push({
              role: 'tool',
              toolCallId: `call_${call.id}`,
              toolName: call.tool_name,
              result: call.error ?? modelResult(call.result, JSON.stringify(call.result ?? null), resultBytes),
              isError: call.error !== null,
            });
          }
        }
        if (message.content !== '') messages.push({ role: 'assistant', content: message.content });
        break;
      }
      default:
        break;
    }
  }
  return messages;
}
