import { useEffect, useRef, useState } from 'react';
import { must } from '../api.ts';
import { selection, type PageProps } from '../paths.ts';
import { AgentSelect, ErrorNote, Loading, Page, useAction, useClient, useLoad, when } from '../ui.tsx';
import type { Flow } from './flow-fields.ts';
import { FlowEditor } from './FlowEditor.tsx';
import { FlowRun } from './FlowRun.tsx';
import { Pager } from './ThreadView.tsx';

const PAGE_SIZE = 20;
type Open = { mode: 'edit' | 'run'; flow: Flow } | { mode: 'new' } | null;

/** An agent's flows: list, create and edit (variables, schedules), delete, and run one now. */
export function FlowsPage({ navigate }: PageProps) {
  const client = useClient();
  const [agentId, setAgentId] = useState(selection.agentId());
  const [offset, setOffset] = useState(0);
  const [open, setOpen] = useState<Open>(null);
  // The editor or run panel opens under the list: brought into view (on a phone it is off screen).
  const panel = useRef<HTMLDivElement>(null);
  // A block body: the effect must return nothing (newer Chromium's scrollIntoView answers a promise).
  useEffect(() => {
    if (open) panel.current?.scrollIntoView({ block: 'start' });
  }, [open]);
  const flows = useLoad(async () => {
    if (!agentId) return [];
    const params = { path: { agent_id: agentId }, query: { limit: PAGE_SIZE, offset } };
    return must(await client.GET('/api/v1/agents/{agent_id}/flows', { params }));
  }, [agentId, offset]);
  const action = useAction();
  const remove = async (flow: Flow) => {
    if (!window.confirm(`Delete the flow ${flow.name} and its schedules?`)) return;
    const path = { agent_id: agentId, flow_id: flow.id };
    const ok = await action.run(async () =>
      must(await client.DELETE('/api/v1/agents/{agent_id}/flows/{flow_id}', { params: { path } })),
    );
    if (!ok) return;
    setOpen(null);
    flows.reload();
  };
  const chooseAgent = (id: string) => (selection.setAgentId(id), setAgentId(id), setOpen(null), setOffset(0));
  return (
    <Page
      title="Flows"
      actions={
        <div className="actions">
          <AgentSelect value={agentId} onChange={chooseAgent} />
          <button type="button" onClick={() => setOpen({ mode: 'new' })} disabled={!agentId}>
            New flow
          </button>
          <button type="button" className="secondary" onClick={() => navigate('executions')}>
            All executions
          </button>
        </div>
      }
    >
      <Loading loaded={flows} />
      <ErrorNote error={action.error} />
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Variables</th>
              <th scope="col">Schedules</th>
              <th scope="col">Updated</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {(flows.data ?? []).map((flow) => (
              <tr key={flow.id} data-flow-id={flow.id}>
                <td>{flow.name}</td>
                <td>{flow.variables.map((variable) => variable.name).join(', ') || '—'}</td>
                <td>
                  {flow.schedules.map((schedule) => (
                    <div key={schedule.id}>
                      <code>{schedule.cron}</code> {schedule.timezone}
                      <span className="muted"> · next {when(schedule.next_run_at)}</span>
                    </div>
                  ))}
                  {flow.schedules.length === 0 && '—'}
                </td>
                <td>{when(flow.updated_at)}</td>
                <td className="actions">
                  <button type="button" onClick={() => setOpen({ mode: 'run', flow })}>
                    Run <span className="visually-hidden">{flow.name}</span>
                  </button>
                  <button type="button" className="secondary" onClick={() => setOpen({ mode: 'edit', flow })}>
                    Edit <span className="visually-hidden">{flow.name}</span>
                  </button>
                  <button type="button" className="danger" onClick={() => remove(flow)} disabled={action.busy}>
                    Delete <span className="visually-hidden">{flow.name}</span>
                  </button>
                </td>
              </tr>
            ))}
            {flows.data?.length === 0 && (
              <tr>
                <td colSpan={5} className="muted">
                  No flows yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <Pager offset={offset} size={PAGE_SIZE} count={flows.data?.length ?? 0} onChange={setOffset} />
      <div ref={panel}>
        {open?.mode === 'run' && <FlowRun key={open.flow.id} flow={open.flow} />}
        {(open?.mode === 'new' || open?.mode === 'edit') && (
          <FlowEditor
            key={open.mode === 'edit' ? open.flow.id : 'new'}
            agentId={agentId}
            flow={open.mode === 'edit' ? open.flow : null}
            onSaved={flows.reload}
            onClose={() => setOpen(null)}
          />
        )}
      </div>
    </Page>
  );
}
