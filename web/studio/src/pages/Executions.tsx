import { useState } from 'react';
import { must, type Schemas } from '../api.ts';
import { Loading, Page, useClient, useLoad, when } from '../ui.tsx';
import { Timeline } from './ExecutionTimeline.tsx';

type Execution = Schemas['FlowExecution'];
const STATUSES = ['', 'pending', 'queued', 'running', 'completed', 'failed', 'cancelled', 'timeout', 'retrying'];
const TRIGGERS = ['', 'event', 'manual', 'scheduled', 'api', 'webhook', 'test'];
const PAGE_SIZE = 20;

/** Runs and flow executions, filtered, paged; one execution's steps as a timeline. */
export function ExecutionsPage() {
  const client = useClient();
  const [status, setStatus] = useState('');
  const [trigger, setTrigger] = useState('');
  const [page, setPage] = useState(1);
  const [open, setOpen] = useState<Execution | null>(null);
  const list = useLoad(async () => {
    const query = {
      page,
      page_size: PAGE_SIZE,
      ...(status ? { status: status as Execution['status'] } : {}),
      ...(trigger ? { trigger_type: trigger as Execution['trigger_type'] } : {}),
    };
    return must(await client.GET('/api/v1/flows/executions', { params: { query } }));
  }, [status, trigger, page]);
  return (
    <Page title="Executions">
      <div className="row-form">
        <label>
          Status
          <select value={status} onChange={(event) => (setStatus(event.target.value), setPage(1))}>
            {STATUSES.map((each) => (
              <option key={each} value={each}>
                {each || 'any'}
              </option>
            ))}
          </select>
        </label>
        <label>
          Trigger
          <select value={trigger} onChange={(event) => (setTrigger(event.target.value), setPage(1))}>
            {TRIGGERS.map((each) => (
              <option key={each} value={each}>
                {each || 'any'}
              </option>
            ))}
          </select>
        </label>
        <span className="muted">{list.data ? `${list.data.total_count} in all` : ''}</span>
      </div>
      <Loading loaded={list} />
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Status</th>
              <th scope="col">Trigger</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
              <th scope="col">Tokens</th>
              <th scope="col">Cost</th>
              <th scope="col">Steps</th>
            </tr>
          </thead>
          <tbody>
            {(list.data?.executions ?? []).map((execution) => (
              <tr key={execution.id} data-execution-id={execution.id}>
                <td>{execution.execution_number}</td>
                <td>
                  <span className={`badge ${execution.status}`}>{execution.status}</span>
                </td>
                <td>{execution.trigger_type}</td>
                <td>{when(execution.started_at)}</td>
                <td>{execution.duration_ms === null ? '—' : `${execution.duration_ms} ms`}</td>
                <td>{execution.tokens_used ?? '—'}</td>
                <td>{execution.cost_estimate === null ? '—' : `$${execution.cost_estimate.toFixed(4)}`}</td>
                <td>
                  <button type="button" className="secondary" onClick={() => setOpen(execution)}>
                    Timeline <span className="visually-hidden">of execution {execution.execution_number}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav className="pager" aria-label="Pages">
        <button type="button" className="secondary" disabled={page === 1} onClick={() => setPage(page - 1)}>
          Previous
        </button>
        <button type="button" className="secondary" disabled={!list.data?.has_more} onClick={() => setPage(page + 1)}>
          Next
        </button>
      </nav>
      {open && <Timeline execution={open} />}
    </Page>
  );
}
