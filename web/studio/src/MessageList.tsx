import { useState } from 'react';
import type { MessageView, ToolView } from './conversation.ts';
import { must } from './api.ts';
import { ErrorNote, useAction, useClient } from './ui.tsx';

interface Decide {
  (tool: ToolView, message: MessageView, decision: 'approve' | 'reject'): Promise<void>;
}

/** A conversation as the playground and the thread view both draw it. */
export function MessageList(props: { messages: MessageView[]; onDecide?: Decide; feedback?: boolean }) {
  return (
    <ol className="messages" aria-label="Messages">
      {props.messages.map((message) => (
        <li
          key={message.id}
          className={`message ${message.role}`}
          data-message-id={message.id}
          data-status={message.status}
        >
          <span className="role">{message.role === 'user' ? 'You' : message.role}</span>
          {message.tools.map((tool) => (
            <ToolCallView key={tool.id} tool={tool} message={message} onDecide={props.onDecide} />
          ))}
          {message.text && <p className="text">{message.text}</p>}
          {message.citations.length > 0 && (
            <ul className="citations" aria-label="Sources">
              {message.citations.map((citation, index) => (
                <li key={`${citation.chunk_id ?? index}`}>
                  <strong>{citation.title ?? citation.file_id}</strong>
                  {citation.page ? ` (page ${citation.page})` : ''}: <q>{citation.text?.slice(0, 200)}</q>
                </li>
              ))}
            </ul>
          )}
          {props.feedback && message.role === 'assistant' && message.status !== 'in_progress' && (
            <FeedbackControls message={message} />
          )}
        </li>
      ))}
    </ol>
  );
}

const seconds = (start?: string | null, end?: string | null) =>
  start && end ? `${((Date.parse(end) - Date.parse(start)) / 1000).toFixed(2)} s` : null;

function ToolCallView({ tool, message, onDecide }: { tool: ToolView; message: MessageView; onDecide?: Decide }) {
  const action = useAction();
  const took = seconds(tool.startTime, tool.endTime);
  return (
    <details className="tool" open data-tool={tool.name} data-approval={tool.approval ?? ''}>
      <summary>
        Tool <code>{tool.name}</code>
        {tool.approval && <span className={`badge ${tool.approval}`}>{tool.approval}</span>}
        {tool.error ? <span className="badge failed">error</span> : null}
        {took && <span className="muted"> · {took}</span>}
      </summary>
      <div className="tool-body">
        <span className="muted">Arguments</span>
        <pre className="tool-arguments">{JSON.stringify(tool.arguments, null, 2)}</pre>
        {tool.result !== undefined && tool.result !== null && (
          <>
            <span className="muted">Result</span>
            <pre className="tool-result">{JSON.stringify(tool.result, null, 2)}</pre>
          </>
        )}
        {tool.error && <p className="error">{tool.error}</p>}
        {tool.approval === 'pending' && onDecide && (
          <div className="actions">
            <button
              type="button"
              disabled={action.busy}
              onClick={() => action.run(() => onDecide(tool, message, 'approve'))}
            >
              Approve
            </button>
            <button
              type="button"
              className="danger"
              disabled={action.busy}
              onClick={() => action.run(() => onDecide(tool, message, 'reject'))}
            >
              Reject
            </button>
          </div>
        )}
        <ErrorNote error={action.error} />
      </div>
    </details>
  );
}

const ISSUE_TYPES = ['', 'incorrect', 'incomplete', 'irrelevant', 'harmful', 'other'];

function FeedbackControls({ message }: { message: MessageView }) {
  const client = useClient();
  const [rating, setRating] = useState<'positive' | 'negative' | null>(message.feedback as 'positive' | null);
  const [issue, setIssue] = useState('');
  const [comment, setComment] = useState('');
  const [sent, setSent] = useState(message.feedback !== null);
  const action = useAction();
  const send = (feedbackType: 'positive' | 'negative') =>
    action.run(async () => {
      const feedback_details = { feedback_type: feedbackType, issue_type: issue || null, comment: comment || null };
      must(
        await client.POST('/api/v1/feedback/chat', {
          body: { message_id: message.id, source: 'studio', feedback_details },
        }),
      );
      setRating(feedbackType);
      setSent(true);
    });
  return (
    <div className="feedback" aria-label="Feedback">
      <button type="button" className="icon" aria-pressed={rating === 'positive'} onClick={() => send('positive')}>
        <span aria-hidden="true">✓</span> Good<span className="visually-hidden"> answer</span>
      </button>
      <button type="button" className="icon" aria-pressed={rating === 'negative'} onClick={() => send('negative')}>
        <span aria-hidden="true">✗</span> Bad<span className="visually-hidden"> answer</span>
      </button>
      <label className="inline">
        Issue
        <select value={issue} onChange={(event) => setIssue(event.target.value)}>
          {ISSUE_TYPES.map((type) => (
            <option key={type} value={type}>
              {type || '—'}
            </option>
          ))}
        </select>
      </label>
      <label className="inline grow">
        Comment
        <input value={comment} onChange={(event) => setComment(event.target.value)} maxLength={10000} />
      </label>
      {sent && <span role="status">Thanks: feedback saved.</span>}
      <ErrorNote error={action.error} />
    </div>
  );
}
