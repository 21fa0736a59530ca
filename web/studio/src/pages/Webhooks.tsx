import { useEffect, useState, type FormEvent } from 'react';
import { must, type Schemas } from '../api.ts';
import { ErrorNote, Loading, Page, useAction, useClient, useLoad, when } from '../ui.tsx';

type EventName = Schemas['WebhookCreate']['events'][number];
const EVENTS: EventName[] = [
  'run.completed',
  'run.failed',
  'execution.completed',
  'execution.failed',
  'feedback.created',
  'thread.created',
];

/** Webhook endpoints, a new one (its secret shown once), a test delivery, and the delivery log. */
export function WebhooksPage() {
  const client = useClient();
  const hooks = useLoad(async () => must(await client.GET('/api/v1/webhooks')), []);
  const [open, setOpen] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<EventName[]>(['run.completed']);
  const action = useAction();
  const create = async (event: FormEvent) => {
    event.preventDefault();
    await action.run(async () => {
      const created = must(await client.POST('/api/v1/webhooks', { body: { url, events } }));
      setSecret(created.secret);
      setUrl('');
      hooks.reload();
    });
  };
  const test = (id: string) =>
    action.run(async () => {
      must(await client.POST('/api/v1/webhooks/{webhook_id}/test', { params: { path: { webhook_id: id } } }));
      setOpen(id);
    });
  const rotate = (id: string) =>
    action.run(async () => {
      const answer = must(
        await client.POST('/api/v1/webhooks/{webhook_id}/rotate-secret', { params: { path: { webhook_id: id } } }),
      );
      setSecret(answer.secret);
    });
  return (
    <Page title="Webhooks">
      {secret && (
        <p className="card notice" role="status">
          Signing secret, shown once: <code className="secret">{secret}</code>
        </p>
      )}
      <form className="card" onSubmit={create} aria-label="New webhook">
        <label>
          Endpoint URL
          <input type="url" value={url} onChange={(event) => setUrl(event.target.value)} required />
        </label>
        <fieldset className="row-form">
          <legend>Events</legend>
          {EVENTS.map((name) => (
            <label key={name} className="inline">
              <input
                type="checkbox"
                checked={events.includes(name)}
                onChange={(event) =>
                  setEvents(event.target.checked ? [...events, name] : events.filter((each) => each !== name))
                }
              />{' '}
              {name}
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={action.busy}>
          Add webhook
        </button>
      </form>
      <ErrorNote error={action.error} />
      <Loading loaded={hooks} />
      <ul className="list">
        {(hooks.data ?? []).map((hook) => (
          <li key={hook.id} className="list-row">
            <span>
              <strong>{hook.url}</strong> <span className="muted">{hook.events.join(', ')}</span>
            </span>
            <span className="actions">
              <button type="button" className="secondary" onClick={() => test(hook.id)}>
                Send test
              </button>
              <button type="button" className="secondary" onClick={() => setOpen(hook.id)}>
                Deliveries
              </button>
              <button type="button" className="secondary" onClick={() => rotate(hook.id)}>
                Rotate secret
              </button>
            </span>
          </li>
        ))}
      </ul>
      {open && <Deliveries key={open} webhookId={open} />}
    </Page>
  );
}

/** Between two reads of a log with a pending delivery (the queue sends within about a second). */
const PENDING_POLL_MS = 1000;

/** The delivery log, read again while a delivery is pending, so a test shows its answer by itself. */
function Deliveries({ webhookId }: { webhookId: string }) {
  const client = useClient();
  const list = useLoad(async () => {
    const params = { path: { webhook_id: webhookId }, query: { limit: 50 } };
    return must(await client.GET('/api/v1/webhooks/{webhook_id}/deliveries', { params }));
  }, [webhookId]);
  const pending = (list.data?.deliveries ?? []).some((delivery) => delivery.status === 'pending');
  useEffect(() => {
    if (!pending || list.loading) return;
    const timer = setTimeout(list.reload, PENDING_POLL_MS);
    return () => clearTimeout(timer);
  }, [pending, list.loading, list.reload]);
  return (
    <section className="card" aria-label="Deliveries">
      <header className="page-header">
        <h2>Deliveries</h2>
        <button type="button" className="secondary" onClick={list.reload}>
          Refresh
        </button>
      </header>
      <Loading loaded={list} />
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last answer</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {(list.data?.deliveries ?? []).map((delivery) => (
              <tr key={delivery.id} data-delivery-status={delivery.status}>
                <td>{delivery.event_type}</td>
                <td>
                  <span className={`badge ${delivery.status}`}>{delivery.status}</span>
                </td>
                <td>{delivery.attempts}</td>
                <td>{delivery.last_status_code ?? delivery.last_error ?? '—'}</td>
                <td>{when(delivery.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
