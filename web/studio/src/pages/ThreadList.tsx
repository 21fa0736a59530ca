import { useState, type ReactNode } from 'react';
import { Loading, type Loaded } from '../ui.tsx';
import { Pager, ThreadView } from './ThreadView.tsx';

export const THREAD_PAGE_SIZE = 20;

/** Where a thread list is: the offset of its page and the thread open beside it. */
export function useThreadPage() {
  const [offset, setOffset] = useState(0);
  const [open, setOpen] = useState<string | null>(null);
  return { offset, setOffset, open, setOpen };
}
export type ThreadPage = ReturnType<typeof useThreadPage>;

/**
 * A page of threads beside the one open, and the pager under them: the list of all threads and
 * the list of web threads differ only in what each item shows under its title (`details`).
 */
export function ThreadList<T extends { id: string; title?: string | null }>(props: {
  label: string;
  empty: string;
  agentId: string;
  threads: Loaded<T[]>;
  page: ThreadPage;
  details: (thread: T) => ReactNode;
}) {
  const { threads, page } = props;
  const open = page.open;
  return (
    <>
      <Loading loaded={threads} />
      <div className="split">
        <ul className="list" aria-label={props.label}>
          {(threads.data ?? []).map((thread) => (
            <li key={thread.id}>
              <button
                type="button"
                className={open === thread.id ? 'list-item active' : 'list-item'}
                onClick={() => page.setOpen(thread.id)}
                data-thread-id={thread.id}
              >
                <strong>{thread.title ?? 'Untitled'}</strong>
                {props.details(thread)}
              </button>
            </li>
          ))}
          {threads.data?.length === 0 && <li className="muted">{props.empty}</li>}
        </ul>
        {open && (
          <ThreadView
            key={open}
            agentId={props.agentId}
            threadId={open}
            onDeleted={() => (page.setOpen(null), threads.reload())}
          />
        )}
      </div>
      <Pager offset={page.offset} size={THREAD_PAGE_SIZE} count={threads.data?.length ?? 0} onChange={page.setOffset} />
    </>
  );
}
