import { useState, type FormEvent } from 'react';
import { must } from '../api.ts';
import { selection } from '../paths.ts';
import { AgentSelect, Page, useClient, useLoad, when } from '../ui.tsx';
import { ThreadList, THREAD_PAGE_SIZE as PAGE_SIZE, useThreadPage } from './ThreadList.tsx';
import { WebThreads } from './WebThreads.tsx';

type Kind = 'all' | 'web';

/**
 * An agent's threads: all of them (`GET …/threads`: API users' and widget visitors'), or, through
 * the switch, only its widget visitors' (`GET …/web-threads/search`, with the visitor shown).
 */
export function ThreadsPage() {
  const [agentId, setAgentId] = useState(selection.agentId());
  const [kind, setKind] = useState<Kind>('all');
  const kinds: [Kind, string][] = [
    ['all', 'All threads'],
    ['web', 'Web threads'],
  ];
  return (
    <Page title="Threads" actions={<AgentSelect value={agentId} onChange={setAgentId} />}>
      <div className="actions" role="group" aria-label="Which threads">
        {kinds.map(([value, label]) => (
          <button
            key={value}
            type="button"
            className="icon"
            aria-pressed={kind === value}
            onClick={() => setKind(value)}
          >
            {label}
          </button>
        ))}
      </div>
      {agentId &&
        (kind === 'all' ? (
          <AllThreads key={agentId} agentId={agentId} />
        ) : (
          <WebThreads key={agentId} agentId={agentId} />
        ))}
    </Page>
  );
}

/** Every thread of the agent, newest first, with full-text search (ranked, highlighted snippets). */
function AllThreads({ agentId }: { agentId: string }) {
  const client = useClient();
  const [query, setQuery] = useState('');
  const [searched, setSearched] = useState('');
  const page = useThreadPage();
  const { offset, setOffset } = page;
  const threads = useLoad(async () => {
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
    <>
      <form className="row-form" role="search" onSubmit={search}>
        <label className="grow">
          Search messages
          <input type="search" value={query} onChange={(event) => setQuery(event.target.value)} />
        </label>
        <button type="submit">Search</button>
      </form>
      <ThreadList
        label="Threads"
        empty="No threads."
        agentId={agentId}
        threads={threads}
        page={page}
        details={(thread) => (
          <>
            <span className="muted">{when(thread.updated_at)}</span>
            {/* The server escapes every character of the snippet but its <mark> tags. */}
            {thread.snippet && <span className="snippet" dangerouslySetInnerHTML={{ __html: thread.snippet }} />}
          </>
        )}
      />
    </>
  );
}
