import { useState, type FormEvent } from 'react';
import { must } from '../api.ts';
import { ErrorNote, useAction, useClient } from '../ui.tsx';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const EMPTY_SCHEMA = '{\n  "type": "object",\n  "properties": {}\n}';

/** A JSON text field's value, or an Error naming the field (shown like the server's detail). */
function parseJson(label: string, text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Reported below with the field's name; the parser's position is of no use in a small field.
  }
  throw new Error(`${label}: not a JSON object`);
}

/**
 * An external HTTP tool (tool_type `external_tool`, docs/tools.md): the server checks the
 * configuration (URL, placeholders, the input schema) and its 422 detail is shown as is. Header
 * values are secrets: stored encrypted and never shown again.
 */
export function ExternalToolForm({ agentId, onCreated }: { agentId: string; onCreated: () => void }) {
  const client = useClient();
  const [form, setForm] = useState({ name: '', description: '', url: '', method: 'GET', schema: EMPTY_SCHEMA });
  const [headers, setHeaders] = useState('');
  const [approval, setApproval] = useState(false);
  const [created, setCreated] = useState<string | null>(null);
  const action = useAction();
  const set = (key: keyof typeof form) => (event: { target: { value: string } }) =>
    setForm((current) => ({ ...current, [key]: event.target.value }));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setCreated(null);
    await action.run(async () => {
      const configuration = {
        description: form.description,
        method: form.method,
        url: form.url,
        input_schema: parseJson('Parameters', form.schema),
        ...(headers.trim() ? { headers: parseJson('Headers', headers) } : {}),
        ...(approval ? { requires_approval: true } : {}),
      };
      const body = { tool_name: form.name, tool_type: 'external_tool' as const, configuration, is_enabled: true };
      const tool = must(
        await client.POST('/api/v1/agents/{agent_id}/tools', { params: { path: { agent_id: agentId } }, body }),
      );
      setCreated(`Created ${tool.tool_name}.`);
      setForm((current) => ({ ...current, name: '', description: '', url: '' }));
      setHeaders('');
      onCreated();
    });
  };
  return (
    <form className="card" onSubmit={submit} aria-label="New external tool">
      <h2>External HTTP tool</h2>
      <div className="row-form">
        <label>
          Tool name
          <input value={form.name} onChange={set('name')} pattern="[A-Za-z_][A-Za-z0-9_\-]{0,63}" required />
        </label>
        <label>
          Method
          <select value={form.method} onChange={set('method')}>
            {METHODS.map((method) => (
              <option key={method}>{method}</option>
            ))}
          </select>
        </label>
        <label className="grow">
          Endpoint URL
          <input
            type="url"
            value={form.url}
            onChange={set('url')}
            placeholder="https://api.example/orders/{id}"
            required
          />
        </label>
      </div>
      <label>
        Description
        <input value={form.description} onChange={set('description')} required />
      </label>
      <label>
        Parameters (JSON schema)
        <textarea rows={5} className="mono" value={form.schema} onChange={set('schema')} required />
      </label>
      <label>
        Headers (JSON, optional; values are kept secret)
        <textarea
          rows={2}
          className="mono"
          value={headers}
          placeholder='{"x-api-key": "…"}'
          onChange={(event) => setHeaders(event.target.value)}
        />
      </label>
      <label className="inline">
        <input type="checkbox" checked={approval} onChange={(event) => setApproval(event.target.checked)} /> requires
        approval
      </label>
      <button type="submit" disabled={action.busy}>
        Create tool
      </button>
      {created && <p role="status">{created}</p>}
      <ErrorNote error={action.error} />
    </form>
  );
}
