import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { clientFor, session } from './api.ts';
import { ClientContext } from './ui.tsx';
import { PAGES, ROUTE_NAMES, routeOf, type RouteName } from './paths.ts';
import { ROUTES } from './routes.tsx';

/** The studio's shell: the sign-in form until a key is saved, then the navigation and one page. */
export function App() {
  const [apiKey, setApiKey] = useState<string | null>(() => session.read());
  const client = useMemo(() => (apiKey ? clientFor(apiKey) : null), [apiKey]);
  const [route, setRoute] = useState<RouteName>(() => routeOf(window.location.pathname));
  const [menuOpen, setMenuOpen] = useState(false);

  useEffect(() => {
    const onPop = () => setRoute(routeOf(window.location.pathname));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  if (!client) return <SignIn onSignedIn={setApiKey} />;
  const navigate = (name: RouteName) => {
    window.history.pushState(null, '', `/studio/${name}`);
    setRoute(name);
    setMenuOpen(false);
  };
  const Current = ROUTES[route];
  return (
    <ClientContext.Provider value={client}>
      <div className="shell">
        <nav className={menuOpen ? 'nav open' : 'nav'} aria-label="Studio">
          <div className="brand">
            <span>Parley Studio</span>
            <button
              type="button"
              className="menu-toggle"
              aria-expanded={menuOpen}
              onClick={() => setMenuOpen((open) => !open)}
            >
              Menu
            </button>
          </div>
          <ul>
            {ROUTE_NAMES.map((name) => (
              <li key={name}>
                <a
                  href={`/studio/${name}`}
                  aria-current={name === route ? 'page' : undefined}
                  onClick={(event) => {
                    event.preventDefault();
                    navigate(name);
                  }}
                >
                  {PAGES[name]}
                </a>
              </li>
            ))}
          </ul>
          <button
            type="button"
            className="link sign-out"
            onClick={() => {
              session.clear();
              setApiKey(null);
            }}
          >
            Sign out
          </button>
        </nav>
        <main className="main">
          <Current navigate={navigate} />
        </main>
      </div>
    </ClientContext.Provider>
  );
}

/** Checks the key with one call before keeping it; the server's detail is shown on refusal. */
function SignIn({ onSignedIn }: { onSignedIn: (apiKey: string) => void }) {
  const [apiKey, setApiKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    const { error: refused, response } = await clientFor(apiKey.trim()).GET('/api/v1/agents', {
      params: { query: { limit: 1 } },
    });
    if (!response.ok) {
      setError((refused as { detail?: string } | undefined)?.detail ?? `The server answered ${response.status}.`);
      return;
    }
    session.save(apiKey.trim());
    onSignedIn(apiKey.trim());
  };
  return (
    <main className="sign-in">
      <form onSubmit={submit} className="card">
        <h1>Parley Studio</h1>
        <p className="muted">Sign in with an API key. It is kept in this tab only (sessionStorage).</p>
        <label>
          API key
          <input
            type="password"
            autoComplete="off"
            value={apiKey}
            onChange={(event) => setApiKey(event.target.value)}
            required
          />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
