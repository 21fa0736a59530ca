import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { errorDetail, type ParleyClient } from './api.ts';

/** The signed-in client, for every page. */
export const ClientContext = createContext<ParleyClient | null>(null);

export function useClient(): ParleyClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('useClient outside a signed-in studio');
  return client;
}

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Loads `load()` on mount and whenever `deps` change; `reload()` loads again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const [round, setRound] = useState(0);
  // `load` is a new closure each render: `deps` say when it reads something new.
  const run = useCallback(load, deps);
  useEffect(() => {
    let live = true;
    setState((previous) => ({ ...previous, loading: true }));
    run().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: unknown) => live && setState({ data: null, error: errorDetail(error), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [run, round]);
  return { ...state, reload: () => setRound((value) => value + 1) };
}

/** Runs an action, keeping its error (the server's detail) and whether it is under way. */
export function useAction(): {
  busy: boolean;
  error: string | null;
  run: (action: () => Promise<unknown>) => Promise<boolean>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      return true;
    } catch (caught) {
      setError(errorDetail(caught));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

export function ErrorNote({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {error}
    </p>
  );
}

/** The end of an editor form: the server's detail, "Saved.", its submit button and Close. */
export function EditorEnd(props: {
  error: string | null;
  saved: boolean;
  submit: { label: string; disabled: boolean };
  onClose: () => void;
}) {
  return (
    <>
      <ErrorNote error={props.error} />
      {props.saved && <p role="status">Saved.</p>}
      <div className="actions">
        <button type="submit" disabled={props.submit.disabled}>
          {props.submit.label}
        </button>
        <button type="button" className="secondary" onClick={props.onClose}>
          Close
        </button>
      </div>
    </>
  );
}

export function Page({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  return (
    <section className="page" aria-labelledby="page-title">
      <header className="page-header">
        <h1 id="page-title">{title}</h1>
        {actions}
      </header>
      {children}
    </section>
  );
}

export function Loading({ loaded }: { loaded: { loading: boolean; error: string | null } }) {
  if (loaded.error) return <ErrorNote error={loaded.error} />;
  return loaded.loading ? <p className="muted">Loading…</p> : null;
}

export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

export function Json({ value }: { value: unknown }) {
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

/** An agent picker shared by the pages that work on one agent. */
export function AgentSelect({ value, onChange }: { value: string; onChange: (id: string) => void }) {
  const client = useClient();
  const agents = useLoad(async () => {
    const { data, error } = await client.GET('/api/v1/agents', { params: { query: { limit: 100 } } });
    if (error) throw new Error(String((error as { detail?: unknown }).detail));
    return data ?? [];
  }, []);
  useEffect(() => {
    const first = agents.data?.[0];
    if (!value && first) onChange(first.id);
  }, [agents.data, value, onChange]);
  return (
    <label className="inline">
      Agent
      <select value={value} onChange={(event) => onChange(event.target.value)}>
        {(agents.data ?? []).map((agent) => (
          <option key={agent.id} value={agent.id}>
            {agent.name}
          </option>
        ))}
      </select>
    </label>
  );
}
