import { useRef, useState, type FormEvent } from 'react';
import { errorDetail, must } from '../api.ts';
import { applyEvent, type MessageView, type ToolView } from '../conversation.ts';
import { MessageList } from '../MessageList.tsx';
import { selection } from '../paths.ts';
import { sseEvents } from '../sse.ts';
import { AgentSelect, ErrorNote, Page, useClient } from '../ui.tsx';

/**
 * Chat with an agent: the reply streams from `POST …/messages/stream` event by event (text deltas,
 * tool calls, approval requests); Stop cancels the run; approvals are decided inline.
 */
export function PlaygroundPage() {
  const client = useClient();
  const [agentId, setAgentId] = useState(selection.agentId());
  const [threadId, setThreadId] = useState<string | null>(null);
  const [messages, setMessages] = useState<MessageView[]>([]);
  const [input, setInput] = useState('');
  const [runId, setRunId] = useState<string | null>(null);
  const [streaming, setStreaming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);

  const chooseAgent = (id: string) => {
    selection.setAgentId(id);
    setAgentId(id);
    setThreadId(null);
    setMessages([]);
  };

  const ensureThread = async () => {
    if (threadId) return threadId;
    const body = { title: `Playground ${new Date().toLocaleString()}` };
    const thread = must(
      await client.POST('/api/v1/chat/{agent_id}/threads', { params: { path: { agent_id: agentId } }, body }),
    );
    setThreadId(thread.id);
    return thread.id;
  };

  const send = async (event: FormEvent) => {
    event.preventDefault();
    const content = input.trim();
    if (!content || streaming) return;
    setError(null);
    setStreaming(true);
    abort.current = new AbortController();
    try {
      const thread = await ensureThread();
      const answer = await client.POST('/api/v1/chat/{agent_id}/threads/{thread_id}/messages/stream', {
        params: { path: { agent_id: agentId, thread_id: thread } },
        body: { role: 'user', content },
        parseAs: 'stream',
        signal: abort.current.signal,
      });
      if (!answer.response.ok || !answer.data) throw new Error(errorDetail(answer.error));
      setInput('');
      for await (const streamed of sseEvents(answer.data as unknown as ReadableStream<Uint8Array>)) {
        if (streamed.type === 'run-start' && streamed.run_id) setRunId(streamed.run_id);
        if (streamed.type === 'stream-error') setError(streamed.detail ?? 'The stream failed.');
        if (streamed.type === 'run-error')
          setError(String((streamed.error as { message?: string })?.message ?? 'The run failed.'));
        setMessages((shown) => applyEvent(shown, streamed));
      }
    } catch (caught) {
      if (!abort.current?.signal.aborted) setError(errorDetail(caught));
    } finally {
      setStreaming(false);
      setRunId(null);
    }
  };

  const stop = async () => {
    if (!runId || !threadId) return abort.current?.abort();
    const path = { agent_id: agentId, thread_id: threadId, run_id: runId };
    const answer = await client.POST('/api/v1/chat/{agent_id}/threads/{thread_id}/runs/{run_id}/cancel', {
      params: { path },
    });
    if (answer.error) setError(errorDetail(answer.error));
  };

  const decide = async (tool: ToolView, message: MessageView, decision: 'approve' | 'reject') => {
    if (!threadId || !message.runId) throw new Error('No run to decide for.');
    const path = { agent_id: agentId, thread_id: threadId, run_id: message.runId, call_id: tool.id };
    const route =
      decision === 'approve'
        ? ('/api/v1/chat/{agent_id}/threads/{thread_id}/runs/{run_id}/tool-calls/{call_id}/approve' as const)
        : ('/api/v1/chat/{agent_id}/threads/{thread_id}/runs/{run_id}/tool-calls/{call_id}/reject' as const);
    must(await client.POST(route, { params: { path }, body: {} }));
    setMessages((shown) =>
      shown.map((each) =>
        each.id === message.id
          ? {
              ...each,
              tools: each.tools.map((call) =>
                call.id === tool.id ? { ...call, approval: decision === 'approve' ? 'approved' : 'rejected' } : call,
              ),
            }
          : each,
      ),
    );
  };

  return (
    <Page
      title="Playground"
      actions={
        <div className="actions">
          <AgentSelect value={agentId} onChange={chooseAgent} />
          <button type="button" className="secondary" onClick={() => chooseAgent(agentId)} disabled={streaming}>
            New chat
          </button>
        </div>
      }
    >
      <div className="chat card">
        {messages.length === 0 && <p className="muted">Send a message to start a thread with this agent.</p>}
        <MessageList messages={messages} onDecide={decide} feedback />
        <p className="status" data-status={streaming ? 'streaming' : 'ready'} aria-live="polite">
          {streaming ? 'Streaming…' : threadId ? `Thread ${threadId}` : ''}
        </p>
        <ErrorNote error={error} />
        <form className="composer" onSubmit={send}>
          <label className="grow">
            <span className="visually-hidden">Message</span>
            <textarea
              rows={2}
              placeholder="Message"
              value={input}
              onChange={(event) => setInput(event.target.value)}
              onKeyDown={(event) => {
                if (event.key === 'Enter' && !event.shiftKey) {
                  event.preventDefault();
                  event.currentTarget.form?.requestSubmit();
                }
              }}
            />
          </label>
          {streaming ? (
            <button type="button" className="danger" onClick={stop}>
              Stop
            </button>
          ) : (
            <button type="submit" disabled={!agentId || !input.trim()}>
              Send
            </button>
          )}
        </form>
      </div>
    </Page>
  );
}
