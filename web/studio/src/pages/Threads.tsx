import { useState, type FormEvent } from 'react';
import { must } from '../api.ts';
import { fromStored } from '../conversation.ts';
import { MessageList } from '../MessageList.tsx';
import { selection } from '../routes.tsx';
import { AgentSelect, ErrorNote, Loading, Page, useAction, useClient, useLoad, when } from '../ui.tsx';

const PAGE_SIZE = 20;

/** An agent's threads, newest first, with full-text search, one thread's messages, and delete. */
export function ThreadsPage() {
  const client = useClient();
  const [agentId, setAgentId] = useState(selection.agentId());
  const [query, setQuery] = useState('');
  const [searched, setSearched] = useState('');
  const [offset, setOffset] = useState(0);
  const [open, setOpen] = useState<string | null>(null);
  const threads = useLoad(async () => {
    if (!agentId) return [];
    const path = { agent_id: agentId };
    if (searched) {
      const query = { q: searched, limit: PAGE_SIZE, offset };
      const found = must(await client.GET('/api/v1/chat/{agent_id}/threads/search', { params: { path, query } }));
      return found.map((match) => ({ ...match.thread, snippet: match.matches[0]?.snippet ?? '' }));
    }
    const query = { limit: PAGE_SIZE, offset };
    const listed = must(await client.GET('/api/v1/chat/{agent_id}/threads', { params: { path, query } }));
    return listed.map((thread) => ({ ...thread, snippet: '' }));
  }, [agentId, searched, offset]);
  const search = (event: FormEvent) => {
    event.preventDefault();
    setOffset(0);
    setSearched(query.trim());
  };
  return (
    <Page title="Threads" actions={<AgentSelect value={agentId} onChange={(id) => (setAgentId(id), setOpen(null))} />}>
      <form className="row-form" role="search" onSubmit={search}>
        <label className="grow">
          Search messages
          <input type="search" value={query} onChange={(event) => setQuery(event.target.value)} />
        </label>
        <button type="submit">Search</button>
      </form>
      <Loading loaded={threads} />
      <div className="split">
        <ul className="list" aria-label="Threads">
          {(threads.data ?? []).map((thread) => (
            <li key={thread.id}>
              <button
                type="button"
                className={open === thread.id ? 'list-item active' : 'list-item'}
                onClick={() => setOpen(thread.id)}
              >
                <strong>{thread.title ?? 'Untitled'}</strong>
                <span className="muted">{when(thread.updated_at)}</span>
                {/* The server escapes every character of the snippet but its <mark> tags. */}
                {thread.snippet && <span className="snippet" dangerouslySetInnerHTML={{ __html: thread.snippet }} />}
              </button>
            </li>
          ))}
          {threads.data?.length === 0 && <li className="muted">No threads.</li>}
        </ul>
        {open && (
          <ThreadView
            key={open}
            agentId={agentId}
            threadId={open}
            onDeleted={() => (setOpen(null), threads.reload())}
          />
        )}
      </div>
      <Pager offset={offset} size={PAGE_SIZE} count={threads.data?.length ?? 0} onChange={setOffset} />
    </Page>
  );
}

export function Pager(props: { offset: number; size: number; count: number; onChange: (offset: number) => void }) {
  return (
    <nav className="pager" aria-label="Pages">
      <button
        type="button"
        className="secondary"
        disabled={props.offset === 0}
        onClick={() => props.onChange(Math.max(0, props.offset - props.size))}
      >
        Previous
      </button>
      <button
        type="button"
        className="secondary"
        disabled={props.count < props.size}
        onClick={() => props.onChange(props.offset + props.size)}
      >
        Next
      </button>
    </nav>
  );
}

function ThreadView(props: { agentId: string; threadId: string; onDeleted: () => void }) {
  const client = useClient();
  const path = { agent_id: props.agentId, thread_id: props.threadId };
  const messages = useLoad(async () => {
    const stored = must(
      await client.GET('/api/v1/chat/{agent_id}/threads/{thread_id}/messages', {
        params: { path, query: { limit: 100 } },
      }),
    );
    return stored.map(fromStored);
  }, [props.threadId]);
  const action = useAction();
  const remove = async () => {
    if (!window.confirm('Delete this thread and its messages?')) return;
    const ok = await action.run(async () =>
      must(await client.DELETE('/api/v1/chat/{agent_id}/threads/{thread_id}', { params: { path } })),
    );
    if (ok) props.onDeleted();
  };
  return (
    <article className="card thread" aria-label="Thread">
      <header className="page-header">
        <h2>Thread</h2>
        <button type="button" className="danger" onClick={remove} disabled={action.busy}>
          Delete thread
        </button>
      </header>
      <ErrorNote error={action.error} />
      <Loading loaded={messages} />
      <MessageList messages={messages.data ?? []} />
    </article>
  );
}
