import { useState, type FormEvent } from 'react';
import { must } from '../api.ts';
import { selection } from '../paths.ts';
import { AgentSelect, ErrorNote, Loading, Page, useAction, useClient, useLoad, when } from '../ui.tsx';

/** API keys (admin) and the chat widget's publishable keys. A new secret is shown once. */
export function KeysPage() {
  const client = useClient();
  const keys = useLoad(async () => must(await client.GET('/api/v1/api-keys')), []);
  const widgetKeys = useLoad(async () => must(await client.GET('/api/v1/widget-keys')), []);
  const [secret, setSecret] = useState<string | null>(null);
  const action = useAction();
  const revoke = (id: string) =>
    action.run(async () => {
      must(await client.DELETE('/api/v1/api-keys/{key_id}', { params: { path: { key_id: id } } }));
      keys.reload();
    });
  const revokeWidget = (id: string) =>
    action.run(async () => {
      must(await client.DELETE('/api/v1/widget-keys/{widget_key_id}', { params: { path: { widget_key_id: id } } }));
      widgetKeys.reload();
    });
  return (
    <Page title="Keys">
      {secret && (
        <p className="card notice" role="status">
          Copy it now, it is not shown again: <code>{secret}</code>
        </p>
      )}
      <ErrorNote error={action.error} />
      <h2>API keys</h2>
      <NewApiKey onCreated={(key) => (setSecret(key), keys.reload())} />
      <Loading loaded={keys} />
      <ul className="list">
        {(keys.data ?? []).map((key) => (
          <li key={key.id} className="list-row">
            <span>
              <strong>{key.name ?? key.prefix}</strong>{' '}
              <code>
                {key.prefix}…{key.last_four}
              </code>{' '}
              {key.scopes.join(', ')}
            </span>
            <span className="muted">
              {key.revoked_at ? `revoked ${when(key.revoked_at)}` : `created ${when(key.created_at)}`}
            </span>
            {!key.revoked_at && (
              <button type="button" className="danger" onClick={() => revoke(key.id)}>
                Revoke <span className="visually-hidden">{key.name}</span>
              </button>
            )}
          </li>
        ))}
      </ul>
      <h2>Widget keys</h2>
      <NewWidgetKey onCreated={(key) => (setSecret(key), widgetKeys.reload())} />
      <Loading loaded={widgetKeys} />
      <ul className="list">
        {(widgetKeys.data ?? []).map((key) => (
          <li key={key.id} className="list-row">
            <span>
              <strong>{key.name}</strong> <code>{key.prefix}…</code> {key.allowed_origins.join(' ')}
            </span>
            {!key.revoked_at && (
              <button type="button" className="danger" onClick={() => revokeWidget(key.id)}>
                Revoke <span className="visually-hidden">{key.name}</span>
              </button>
            )}
          </li>
        ))}
      </ul>
    </Page>
  );
}

function NewApiKey({ onCreated }: { onCreated: (key: string) => void }) {
  const client = useClient();
  const [name, setName] = useState('');
  const [admin, setAdmin] = useState(false);
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await action.run(async () => {
      const scopes: ('read' | 'write' | 'admin')[] = admin ? ['read', 'write', 'admin'] : ['read', 'write'];
      onCreated(must(await client.POST('/api/v1/api-keys', { body: { name, scopes } })).key ?? '');
      setName('');
    });
  };
  return (
    <form className="row-form" onSubmit={submit}>
      <label>
        Key name
        <input value={name} onChange={(event) => setName(event.target.value)} required />
      </label>
      <label className="inline">
        <input type="checkbox" checked={admin} onChange={(event) => setAdmin(event.target.checked)} /> admin scope
      </label>
      <button type="submit" disabled={action.busy}>
        Create API key
      </button>
      <ErrorNote error={action.error} />
    </form>
  );
}

function NewWidgetKey({ onCreated }: { onCreated: (key: string) => void }) {
  const client = useClient();
  const [agentId, setAgentId] = useState(selection.agentId());
  const [name, setName] = useState('');
  const [origins, setOrigins] = useState('');
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await action.run(async () => {
      const allowed_origins = origins.split(/[\s,]+/).filter(Boolean);
      const created = must(
        await client.POST('/api/v1/widget-keys', { body: { agent_id: agentId, name, allowed_origins } }),
      );
      onCreated(
        created.identity_secret
          ? `${created.publishable_key} (identity secret ${created.identity_secret})`
          : (created.publishable_key ?? ''),
      );
      setName('');
    });
  };
  return (
    <form className="row-form" onSubmit={submit}>
      <AgentSelect value={agentId} onChange={setAgentId} />
      <label>
        Widget key name
        <input value={name} onChange={(event) => setName(event.target.value)} required />
      </label>
      <label className="grow">
        Allowed origins
        <input
          value={origins}
          placeholder="https://shop.example"
          onChange={(event) => setOrigins(event.target.value)}
          required
        />
      </label>
      <button type="submit" disabled={action.busy}>
        Create widget key
      </button>
      <ErrorNote error={action.error} />
    </form>
  );
}
