import { useState, type FormEvent } from 'react';
import { must, type Schemas } from '../api.ts';
import { useClient, useLoad, when } from '../ui.tsx';
import { ThreadList, THREAD_PAGE_SIZE as PAGE_SIZE, useThreadPage } from './ThreadList.tsx';

type WebThread = Schemas['EnhancedWebThread'];

interface Filters {
  q: string;
  from: string;
  to: string;
  feedback: '' | 'positive' | 'negative' | 'any';
  ticket: '' | 'converted' | 'chat_only';
  sort: 'newest' | 'oldest';
}
const NO_FILTERS: Filters = { q: '', from: '', to: '', feedback: '', ticket: '', sort: 'newest' };

/** A `<input type="date">` day as the instant it starts (or ends) in the browser's time zone. */
const dayEdge = (day: string, end: boolean) => new Date(`${day}T${end ? '23:59:59.999' : '00:00:00'}`).toISOString();

/** The query of GET …/web-threads/search: only the filters set (each narrows the list). */
function searchQuery(filters: Filters, offset: number) {
  return {
    limit: PAGE_SIZE,
    offset,
    sort: filters.sort,
    include_messages: false,
    ...(filters.q ? { q: filters.q } : {}),
    ...(filters.from ? { from: dayEdge(filters.from, false) } : {}),
    ...(filters.to ? { to: dayEdge(filters.to, true) } : {}),
    ...(filters.feedback ? { feedback: filters.feedback } : {}),
    ...(filters.ticket ? { ticket: filters.ticket } : {}),
  };
}

const visitorOf = (thread: WebThread) =>
  thread.widget_user
    ? (thread.widget_user.user_name ?? thread.widget_user.user_email ?? 'Identified visitor')
    : `Anonymous visitor ${thread.anon_user_id?.slice(0, 8) ?? ''}`;

/** The agent's web threads (its widget visitors'), filtered by text, date, rating and ticket, paged. */
export function WebThreads({ agentId }: { agentId: string }) {
  const client = useClient();
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const page = useThreadPage();
  const { offset, setOffset } = page;
  const threads = useLoad(async () => {
    const params = { path: { agent_id: agentId }, query: searchQuery(filters, offset) };
    return must(await client.GET('/api/v1/chat/{agent_id}/web-threads/search', { params }));
  }, [agentId, filters, offset]);
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setOffset(0);
    page.setOpen(null);
    setFilters({ ...draft, q: draft.q.trim() });
  };
  return (
    <>
      <WebThreadFilters draft={draft} onChange={setDraft} onSubmit={apply} />
      <ThreadList
        label="Web threads"
        empty="No web threads."
        agentId={agentId}
        threads={threads}
        page={page}
        details={(thread) => (
          <>
            <span className="visitor">{visitorOf(thread)}</span>
            <span className="muted">
              {when(thread.created_at)} · {thread.message_count} messages
              {thread.ticket_id ? ` · ticket ${thread.ticket_id}` : ''}
            </span>
          </>
        )}
      />
    </>
  );
}

function WebThreadFilters(props: {
  draft: Filters;
  onChange: (filters: Filters) => void;
  onSubmit: (event: FormEvent) => void;
}) {
  const { draft } = props;
  const set = <K extends keyof Filters>(key: K, value: Filters[K]) => props.onChange({ ...draft, [key]: value });
  return (
    <form className="row-form" role="search" aria-label="Filter web threads" onSubmit={props.onSubmit}>
      <label className="grow">
        Search web threads
        <input type="search" value={draft.q} onChange={(event) => set('q', event.target.value)} />
      </label>
      <label>
        From
        <input type="date" value={draft.from} onChange={(event) => set('from', event.target.value)} />
      </label>
      <label>
        To
        <input type="date" value={draft.to} onChange={(event) => set('to', event.target.value)} />
      </label>
      <label>
        Rated
        <select value={draft.feedback} onChange={(event) => set('feedback', event.target.value as Filters['feedback'])}>
          <option value="">any or none</option>
          <option value="any">rated</option>
          <option value="positive">good</option>
          <option value="negative">bad</option>
        </select>
      </label>
      <label>
        Ticket
        <select value={draft.ticket} onChange={(event) => set('ticket', event.target.value as Filters['ticket'])}>
          <option value="">all</option>
          <option value="converted">with a ticket</option>
          <option value="chat_only">chat only</option>
        </select>
      </label>
      <label>
        Order
        <select value={draft.sort} onChange={(event) => set('sort', event.target.value as Filters['sort'])}>
          <option value="newest">newest first</option>
          <option value="oldest">oldest first</option>
        </select>
      </label>
      <button type="submit">Apply</button>
    </form>
  );
}
