import { useChat } from '@ai-sdk/react';
import { DefaultChatTransport, getToolOrDynamicToolName, isToolOrDynamicToolUIPart, type UIMessage } from 'ai';
import { useMemo, useState, type FormEvent } from 'react';

/** Parley's base URL, a key, the agent, and one of its threads: the thread id is useChat's chat id. */
export interface ParleyChatConfig {
  baseUrl: string;
  apiKey: string;
  agentId: string;
  threadId: string;
}

/** An assistant message's metadata: the UI stream's `start` chunk carries its `run_id`. */
export type ParleyUIMessage = UIMessage<{ run_id?: string; status?: string }>;

interface StoredMessage {
  id: string;
  role: string;
  content: string;
  tool_calls: { tool_name: string; arguments: Record<string, unknown>; result: unknown; error: string | null }[];
  metadata: { run_id?: string; status?: string };
}

/** The thread's stored messages as useChat's initial `messages`. */
export async function loadThreadMessages(config: ParleyChatConfig): Promise<ParleyUIMessage[]> {
  const { baseUrl, apiKey, agentId, threadId } = config;
  const response = await fetch(`${baseUrl}/api/v1/chat/${agentId}/threads/${threadId}/messages`, {
    headers: { 'x-api-key': apiKey },
  });
  if (!response.ok) throw new Error(`Loading the thread failed: ${response.status} ${await response.text()}`);
  const stored = (await response.json()) as StoredMessage[];
  // A reply still being written is left out: `resume: true` reconnects to its run, whose stream
  // rebuilds that message from its start.
  return stored.filter((message) => message.metadata.status !== 'in_progress').map(toUIMessage);
}

function toUIMessage(message: StoredMessage): ParleyUIMessage {
  const tools = message.tool_calls.map((call, position) => ({
    type: `tool-${call.tool_name}` as const,
    toolCallId: `${message.id}-${position}`,
    input: call.arguments,
    ...(call.error === null
      ? { state: 'output-available' as const, output: call.result }
      : { state: 'output-error' as const, errorText: call.error }),
  }));
  return {
    id: message.id,
    role: message.role === 'user' || message.role === 'system' ? message.role : 'assistant',
    metadata: message.metadata,
    parts: [...tools, { type: 'text', text: message.content }],
  };
}

export function ParleyChat({
  config,
  initialMessages,
}: {
  config: ParleyChatConfig;
  initialMessages: ParleyUIMessage[];
}) {
  const { baseUrl, apiKey, agentId, threadId } = config;
  const transport = useMemo(
    () =>
      new DefaultChatTransport<ParleyUIMessage>({
        api: `${baseUrl}/api/v1/chat/${agentId}/ui-messages`,
        headers: { 'x-api-key': apiKey },
      }),
    [baseUrl, apiKey, agentId],
  );
  const { messages, sendMessage, status, stop, error } = useChat<ParleyUIMessage>({
    id: threadId,
    transport,
    resume: true,
    messages: initialMessages,
  });
  const [input, setInput] = useState('');
  const busy = status === 'submitted' || status === 'streaming';

  async function stopReply() {
    const last = messages.at(-1);
    const runId = status === 'streaming' && last?.role === 'assistant' ? last.metadata?.run_id : undefined;
    await stop();
    // stop() only ends this page's stream: Parley finishes a run whose client went away (so that
    // a reload can resume it). Cancel the run too; 409 means it had already ended.
    if (runId === undefined) return;
    const response = await fetch(`${baseUrl}/api/v1/chat/${agentId}/threads/${threadId}/runs/${runId}/cancel`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey },
    });
    if (!response.ok && response.status !== 409) throw new Error(`Cancel failed: ${response.status}`);
  }

  function send(event: FormEvent) {
    event.preventDefault();
    if (input.trim() === '' || busy) return;
    void sendMessage({ text: input });
    setInput('');
  }

  return (
    <div className="chat">
      <output className="status" data-status={status}>
        {status}
      </output>
      <ol className="messages">
        {messages.map((message) => (
          <li key={message.id} className="message" data-role={message.role} data-message-id={message.id}>
            {message.parts.map((part, index) => {
              if (part.type === 'text')
                return (
                  <p key={index} className="part-text">
                    {part.text}
                  </p>
                );
              if (!isToolOrDynamicToolUIPart(part)) return null;
              return (
                <div
                  key={index}
                  className="part-tool"
                  data-tool={getToolOrDynamicToolName(part)}
                  data-state={part.state}
                >
                  <code className="tool-input">{JSON.stringify(part.input)}</code>
                  {part.state === 'output-available' && (
                    <code className="tool-output">{JSON.stringify(part.output)}</code>
                  )}
                  {part.state === 'output-error' && <code className="tool-error">{part.errorText}</code>}
                </div>
              );
            })}
          </li>
        ))}
      </ol>
      {error && <p role="alert">{error.message}</p>}
      <form onSubmit={send}>
        <input value={input} onChange={(event) => setInput(event.target.value)} placeholder="Message" />
        <button type="submit" disabled={busy}>
          Send
        </button>
        {busy && (
          <button type="button" onClick={() => void stopReply()}>
            Stop
          </button>
        )}
      </form>
    </div>
  );
}
