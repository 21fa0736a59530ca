import { useState, type FormEvent } from 'react';
import { must, type Schemas } from '../api.ts';
import { EditorEnd, useAction, useClient, useLoad } from '../ui.tsx';

type Agent = Schemas['Agent'];

const EDITED = ['model', 'instructions', 'temperature', 'max_steps'];
const STATUSES = ['active', 'inactive', 'draft', 'archived'] as const;

/** One agent's configuration: the common keys as fields, the rest as JSON. */
export function AgentEditor(props: { agent: Agent; models: string[]; onSaved: () => void; onClose: () => void }) {
  const { agent } = props;
  const client = useClient();
  const config = agent.configuration as Record<string, unknown>;
  const [name, setName] = useState(agent.name);
  const [status, setStatus] = useState(agent.status);
  const [model, setModel] = useState(String(config.model ?? 'demo'));
  const [instructions, setInstructions] = useState(String(config.instructions ?? ''));
  const [temperature, setTemperature] = useState(config.temperature === undefined ? '' : String(config.temperature));
  const [maxSteps, setMaxSteps] = useState(config.max_steps === undefined ? '' : String(config.max_steps));
  const rest = Object.fromEntries(Object.entries(config).filter(([key]) => !EDITED.includes(key)));
  const [extra, setExtra] = useState(JSON.stringify(rest, null, 2));
  const [saved, setSaved] = useState(false);
  const action = useAction();
  // The server's catalogue (GET /api/v1/models), configured providers first, and the models in use.
  const catalog = useLoad(async () => must(await client.GET('/api/v1/models')), []);
  const listed = [...(catalog.data?.models ?? [])].sort((a, b) => Number(b.configured) - Number(a.configured));
  const models = [...new Set([...listed.map((each) => each.id), ...props.models.filter(Boolean)])];
  const forms = (catalog.data?.providers ?? []).filter((each) => each.configured).map((each) => each.model_form);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    const ok = await action.run(async () => {
      let others: Record<string, unknown>;
      try {
        others = JSON.parse(extra || '{}') as Record<string, unknown>;
      } catch {
        throw new Error('Other configuration keys: not valid JSON.');
      }
      const configuration: Record<string, unknown> = { ...others, model, instructions };
      if (temperature !== '') configuration.temperature = Number(temperature);
      if (maxSteps !== '') configuration.max_steps = Number(maxSteps);
      const body = { name, status: status as Schemas['AgentUpdate']['status'], configuration };
      must(await client.PUT('/api/v1/agents/{agent_id}', { params: { path: { agent_id: agent.id } }, body }));
    });
    if (ok) {
      setSaved(true);
      props.onSaved();
    }
  };
  return (
    <form className="card editor" onSubmit={submit} aria-label={`Configuration of ${agent.name}`}>
      <h2>Edit {agent.name}</h2>
      <div className="grid">
        <label>
          Name
          <input value={name} onChange={(event) => setName(event.target.value)} required />
        </label>
        <label>
          Status
          <select value={status} onChange={(event) => setStatus(event.target.value as Agent['status'])}>
            {STATUSES.map((each) => (
              <option key={each}>{each}</option>
            ))}
          </select>
        </label>
        <label>
          Model
          <input list="studio-models" value={model} onChange={(event) => setModel(event.target.value)} required />
          <datalist id="studio-models">
            {models.map((each) => (
              <option key={each} value={each} />
            ))}
          </datalist>
          <span className="hint">Configured providers: {forms.join(', ') || '…'}</span>
        </label>
        <label>
          Temperature
          <input
            type="number"
            min={0}
            max={2}
            step={0.1}
            value={temperature}
            onChange={(event) => setTemperature(event.target.value)}
          />
        </label>
        <label>
          Max steps
          <input
            type="number"
            min={1}
            max={25}
            value={maxSteps}
            onChange={(event) => setMaxSteps(event.target.value)}
          />
        </label>
      </div>
      <label>
        Instructions
        <textarea rows={4} value={instructions} onChange={(event) => setInstructions(event.target.value)} />
      </label>
      <label>
        Other configuration keys (JSON)
        <textarea rows={6} className="mono" value={extra} onChange={(event) => setExtra(event.target.value)} />
      </label>
      <EditorEnd
        error={action.error}
        saved={saved}
        submit={{ label: 'Save', disabled: action.busy }}
        onClose={props.onClose}
      />
    </form>
  );
}
