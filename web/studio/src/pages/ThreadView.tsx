import { must } from '../api.ts';
import { fromStored } from '../conversation.ts';
import { MessageList } from '../MessageList.tsx';
import { ErrorNote, Loading, useAction, useClient, useLoad } from '../ui.tsx';

/** Previous / Next over an offset-paged list: Next is off once a page comes back short. */
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

/** One thread (an API user's or a web visitor's) drawn as the playground draws it, with delete. */
export function ThreadView(props: { agentId: string; threadId: string; onDeleted: () => void }) {
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
