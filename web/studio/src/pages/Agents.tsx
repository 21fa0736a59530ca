import { useState, type FormEvent } from 'react';
import { must, type Schemas } from '../api.ts';
import { selection, type PageProps } from '../paths.ts';
import { ErrorNote, Loading, Page, useAction, useClient, useLoad, when } from '../ui.tsx';
import { AgentEditor } from './AgentEditor.tsx';
import { AgentTools } from './AgentTools.tsx';

type Agent = Schemas['Agent'];

/** Agents: the list, a new agent from a template, and one agent's configuration. */
export function AgentsPage({ navigate }: PageProps) {
  const client = useClient();
  const agents = useLoad(
    async () => must(await client.GET('/api/v1/agents', { params: { query: { limit: 100 } } })),
    [],
  );
  const [editing, setEditing] = useState<string | null>(null);
  const open = (agent: Agent) => {
    selection.setAgentId(agent.id);
    navigate('playground');
  };
  const chosen = agents.data?.find((agent) => agent.id === editing) ?? null;
  return (
    <Page title="Agents">
      <CreateAgent
        onCreated={(agent) => {
          agents.reload();
          setEditing(agent.id);
        }}
      />
      <Loading loaded={agents} />
      {agents.data && agents.data.length === 0 && <p className="muted">No agents yet: create one from a template.</p>}
      {agents.data && agents.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Model</th>
                <th scope="col">Status</th>
                <th scope="col">Updated</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {agents.data.map((agent) => (
                <tr key={agent.id} data-agent-id={agent.id}>
                  <td>{agent.name}</td>
                  <td>{String(agent.configuration.model ?? 'demo')}</td>
                  <td>
                    <span className={`badge ${agent.status}`}>{agent.status}</span>
                  </td>
                  <td>{when(agent.updated_at)}</td>
                  <td className="actions">
                    <button type="button" className="secondary" onClick={() => setEditing(agent.id)}>
                      Edit <span className="visually-hidden">{agent.name}</span>
                    </button>
                    <button type="button" className="secondary" onClick={() => open(agent)}>
                      Chat <span className="visually-hidden">with {agent.name}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {chosen && <AgentTools key={`tools-${chosen.id}`} agentId={chosen.id} />}
      {chosen && (
        <AgentEditor
          key={chosen.id}
          agent={chosen}
          models={agents.data?.map((agent) => String(agent.configuration.model ?? '')) ?? []}
          onSaved={agents.reload}
          onClose={() => setEditing(null)}
        />
      )}
    </Page>
  );
}

function CreateAgent({ onCreated }: { onCreated: (agent: Agent) => void }) {
  const client = useClient();
  const templates = useLoad(async () => must(await client.GET('/api/v1/templates')), []);
  const [name, setName] = useState('');
  const [templateId, setTemplateId] = useState('');
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const template = templates.data?.find((each) => each.id === templateId) ?? templates.data?.[0];
    if (!template) return;
    await action.run(async () => {
      const body = { name: name.trim(), template_id: template.id, configuration: { ...template.configuration } };
      const agent = must(await client.POST('/api/v1/agents', { body }));
      setName('');
      onCreated(agent);
    });
  };
  return (
    <form className="card row-form" onSubmit={submit} aria-label="Create an agent">
      <label>
        Name
        <input value={name} onChange={(event) => setName(event.target.value)} required maxLength={255} />
      </label>
      <label>
        Template
        <select value={templateId} onChange={(event) => setTemplateId(event.target.value)}>
          {(templates.data ?? []).map((template) => (
            <option key={template.id} value={template.id} title={template.description}>
              {template.name}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={action.busy}>
        Create agent
      </button>
      <ErrorNote error={action.error ?? templates.error} />
    </form>
  );
}
