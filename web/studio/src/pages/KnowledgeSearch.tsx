import { useState, type FormEvent } from 'react';
import { must, type Schemas } from '../api.ts';
import { ErrorNote, useAction, useClient } from '../ui.tsx';

/** Tries the agent's knowledge search: the passages `knowledge_base_search` would find. */
export function KnowledgeSearch({ agentId }: { agentId: string }) {
  const client = useClient();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<Schemas['FileSearchResult'][] | null>(null);
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await action.run(async () => {
      const params = { path: { agent_id: agentId }, query: { query, limit: 10 } };
      setResults(must(await client.GET('/api/v1/agent-files/{agent_id}/files/search', { params })));
    });
  };
  return (
    <section className="card" aria-label="Knowledge search">
      <form className="row-form" role="search" onSubmit={submit}>
        <label className="grow">
          Search the knowledge
          <input type="search" value={query} onChange={(event) => setQuery(event.target.value)} required />
        </label>
        <button type="submit" disabled={action.busy}>
          Search
        </button>
      </form>
      <ErrorNote error={action.error} />
      {results && results.length === 0 && <p className="muted">Nothing found.</p>}
      <ol className="results" aria-label="Search results">
        {(results ?? []).map((result, index) => (
          <li key={index} className="result">
            <strong>{result.file.name}</strong> <span className="muted">similarity {result.similarity.toFixed(2)}</span>
            <p>{result.chunk_text}</p>
          </li>
        ))}
      </ol>
    </section>
  );
}
