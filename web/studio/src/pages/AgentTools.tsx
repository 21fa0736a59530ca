import { useState, type FormEvent } from 'react';
import { must } from '../api.ts';
import { ErrorNote, Loading, useAction, useClient, useLoad } from '../ui.tsx';

const BUILT_INS = ['current_time', 'calculator', 'http_request', 'knowledge_base_search'];

/**
 * An agent's tools (the agent-tools API): attach a built-in, turn a tool on or off, remove it.
 * External tools and OpenAPI imports are listed here too; the Tools page creates them.
 */
export function AgentTools({ agentId }: { agentId: string }) {
  const client = useClient();
  const path = { agent_id: agentId };
  const tools = useLoad(
    async () => must(await client.GET('/api/v1/agents/{agent_id}/tools', { params: { path } })),
    [agentId],
  );
  const [choice, setChoice] = useState(BUILT_INS[0]!);
  const action = useAction();
  const attach = async (event: FormEvent) => {
    event.preventDefault();
    await action.run(async () => {
      const body = { tool_name: choice, tool_type: 'built_in' as const, configuration: {}, is_enabled: true };
      must(await client.POST('/api/v1/agents/{agent_id}/tools', { params: { path }, body }));
      tools.reload();
    });
  };
  const toggle = (toolId: string, enabled: boolean) =>
    action.run(async () => {
      const params = { path: { ...path, tool_id: toolId } };
      must(await client.PATCH('/api/v1/agents/{agent_id}/tools/{tool_id}', { params, body: { is_enabled: enabled } }));
      tools.reload();
    });
  const remove = (toolId: string) =>
    action.run(async () => {
      must(
        await client.DELETE('/api/v1/agents/{agent_id}/tools/{tool_id}', {
          params: { path: { ...path, tool_id: toolId } },
        }),
      );
      tools.reload();
    });
  return (
    <section className="card" aria-label="Agent tools">
      <h2>Tools</h2>
      <Loading loaded={tools} />
      <ul className="list">
        {(tools.data ?? []).map((tool) => (
          <li key={tool.id} className="list-row" data-tool-name={tool.tool_name}>
            <span>
              <code>{tool.tool_name}</code> <span className="muted">{tool.tool_type}</span>
            </span>
            <span className="actions">
              <label className="inline">
                <input
                  type="checkbox"
                  checked={tool.is_enabled}
                  onChange={(event) => void toggle(tool.id, event.target.checked)}
                />
                enabled<span className="visually-hidden"> {tool.tool_name}</span>
              </label>
              <button type="button" className="danger" onClick={() => void remove(tool.id)}>
                Remove <span className="visually-hidden">{tool.tool_name}</span>
              </button>
            </span>
          </li>
        ))}
        {tools.data?.length === 0 && (
          <li className="muted">No agent tools (built-ins named in the configuration's `tools` still work).</li>
        )}
      </ul>
      <form className="row-form" onSubmit={attach}>
        <label>
          Built-in tool
          <select value={choice} onChange={(event) => setChoice(event.target.value)}>
            {BUILT_INS.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={action.busy}>
          Attach tool
        </button>
      </form>
      <ErrorNote error={action.error} />
    </section>
  );
}
