import { useState } from 'react';
import { errorDetail, must } from '../api.ts';
import { ErrorNote, Loading, Page, useAction, useClient, useLoad, when } from '../ui.tsx';

const PAGE_SIZE = 25;

/** Ratings of answers, filtered and paged; the export downloads them as CSV or JSON Lines. */
export function FeedbackPage() {
  const client = useClient();
  const [type, setType] = useState('');
  const [issue, setIssue] = useState('');
  const [offset, setOffset] = useState(0);
  const filters = {
    ...(type ? { feedback_type: type as 'positive' | 'negative' } : {}),
    ...(issue.trim() ? { issue_type: issue.trim() } : {}),
  };
  const list = useLoad(
    async () =>
      must(await client.GET('/api/v1/feedback', { params: { query: { ...filters, limit: PAGE_SIZE, offset } } })),
    [type, issue, offset],
  );
  const exporting = useAction();
  const download = (format: 'csv' | 'jsonl') =>
    exporting.run(async () => {
      // The key goes in a header, never in a link: the file is fetched, then saved from memory.
      const answer = await client.GET('/api/v1/feedback/export', {
        params: { query: { ...filters, format } },
        parseAs: 'blob',
      });
      if (!answer.response.ok || !answer.data) throw new Error(errorDetail(answer.error));
      const url = URL.createObjectURL(answer.data as unknown as Blob);
      const link = Object.assign(document.createElement('a'), { href: url, download: `feedback.${format}` });
      link.click();
      URL.revokeObjectURL(url);
    });
  return (
    <Page
      title="Feedback"
      actions={
        <div className="actions">
          <button type="button" className="secondary" onClick={() => download('csv')} disabled={exporting.busy}>
            Export CSV
          </button>
          <button type="button" className="secondary" onClick={() => download('jsonl')} disabled={exporting.busy}>
            Export JSONL
          </button>
        </div>
      }
    >
      <div className="row-form">
        <label>
          Rating
          <select value={type} onChange={(event) => (setType(event.target.value), setOffset(0))}>
            <option value="">any</option>
            <option value="positive">positive</option>
            <option value="negative">negative</option>
          </select>
        </label>
        <label>
          Issue type
          <input value={issue} onChange={(event) => (setIssue(event.target.value), setOffset(0))} />
        </label>
      </div>
      <ErrorNote error={exporting.error} />
      <Loading loaded={list} />
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Rating</th>
              <th scope="col">Issue</th>
              <th scope="col">Comment</th>
              <th scope="col">Source</th>
              <th scope="col">Thread</th>
            </tr>
          </thead>
          <tbody>
            {(list.data?.feedback ?? []).map((record) => (
              <tr key={record.id} data-feedback-id={record.id} data-message-id={record.ai_message_id ?? ''}>
                <td>{when(record.created_at)}</td>
                <td>
                  <span className={`badge ${record.feedback_type ?? ''}`}>{record.feedback_type ?? 'withdrawn'}</span>
                </td>
                <td>{record.issue_type ?? '—'}</td>
                <td>{record.comment ?? ''}</td>
                <td>{record.source ?? ''}</td>
                <td className="mono">{record.thread_id.slice(0, 8)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.data?.feedback.length === 0 && <p className="muted">No feedback matches.</p>}
      <nav className="pager" aria-label="Pages">
        <button
          type="button"
          className="secondary"
          disabled={offset === 0}
          onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}
        >
          Previous
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!list.data?.has_more}
          onClick={() => setOffset(offset + PAGE_SIZE)}
        >
          Next
        </button>
      </nav>
    </Page>
  );
}
