import { must } from '../api.ts';
import { Loading, useClient, useLoad } from '../ui.tsx';
import { NEW_RETRY, PRIORITIES, RETRY_ON, type FlowDraft, type RetryDraft } from './flow-draft.ts';

type Change = (change: Partial<FlowDraft>) => void;

/**
 * The agent's tools, each one the flow may use when ticked. None is ticked for a new flow (least
 * privilege); a stored name the agent no longer has stays listed, so saving does not drop it unseen.
 */
export function FlowTools(props: { agentId: string; chosen: string[]; onChange: (tools: string[]) => void }) {
  const client = useClient();
  const tools = useLoad(async () => {
    const params = { path: { agent_id: props.agentId } };
    return must(await client.GET('/api/v1/agents/{agent_id}/tools', { params }));
  }, [props.agentId]);
  const attached = (tools.data ?? []).map((tool) => tool.tool_name);
  const names = [...new Set([...attached, ...props.chosen])];
  const toggle = (name: string, on: boolean) =>
    props.onChange(on ? [...props.chosen, name] : props.chosen.filter((each) => each !== name));
  return (
    <fieldset className="editor">
      <legend>Tools</legend>
      <Loading loaded={tools} />
      <div className="actions">
        {names.map((name) => (
          <label className="inline" key={name}>
            <input
              type="checkbox"
              checked={props.chosen.includes(name)}
              onChange={(event) => toggle(name, event.target.checked)}
            />
            <code>{name}</code>
            {tools.data && !attached.includes(name) && <span className="hint">not attached to the agent</span>}
          </label>
        ))}
      </div>
      <span className="hint">
        {tools.data && names.length === 0
          ? 'The agent has no tools: attach them on the agent’s page.'
          : 'Only the tools ticked here are offered to the flow; none by default.'}
      </span>
    </fieldset>
  );
}

/** The JSON Schema the flow's answer must match, checked as JSON while it is typed. */
export function OutputSchemaField(props: { value: string; error: string | null; onChange: Change }) {
  return (
    <label>
      Output schema (JSON Schema)
      <textarea
        rows={4}
        value={props.value}
        onChange={(event) => props.onChange({ outputSchema: event.target.value })}
        aria-invalid={props.error ? true : undefined}
        aria-describedby="output-schema-note"
        placeholder='{"type": "object", "required": ["summary"]}'
        spellCheck={false}
      />
      <span id="output-schema-note" className={props.error ? 'error' : 'hint'}>
        {props.error ?? 'Optional: an answer that does not match is retried once, then fails.'}
      </span>
    </label>
  );
}

/** The defaults an execution of the flow starts with: timeout, priority and retries. */
export function FlowDefaults(props: { draft: FlowDraft; onChange: Change }) {
  const { draft, onChange } = props;
  return (
    <fieldset className="editor">
      <legend>Execution defaults</legend>
      <div className="row-form">
        <label className="grow">
          Timeout (seconds)
          <input
            type="number"
            min={1}
            max={86400}
            value={draft.timeoutSeconds}
            onChange={(event) => onChange({ timeoutSeconds: event.target.value })}
            placeholder="server default"
          />
        </label>
        <label className="grow">
          Priority
          <select
            value={draft.priority}
            onChange={(event) => onChange({ priority: event.target.value as FlowDraft['priority'] })}
          >
            <option value="">server default (normal)</option>
            {PRIORITIES.map((priority) => (
              <option key={priority}>{priority}</option>
            ))}
          </select>
        </label>
      </div>
      <label className="inline">
        <input
          type="checkbox"
          checked={draft.retry !== null}
          onChange={(event) => onChange({ retry: event.target.checked ? NEW_RETRY : null })}
        />
        Retry a failed execution
      </label>
      {draft.retry && <RetryFields retry={draft.retry} onChange={(retry) => onChange({ retry })} />}
    </fieldset>
  );
}

function RetryFields({ retry, onChange }: { retry: RetryDraft; onChange: (retry: RetryDraft) => void }) {
  const set = (change: Partial<RetryDraft>) => onChange({ ...retry, ...change });
  const number = (label: string, key: 'max_retries' | 'initial_delay_ms' | 'max_delay_ms', max: number) => (
    <label className="grow">
      {label}
      <input
        type="number"
        min={0}
        max={max}
        required
        value={retry[key]}
        onChange={(event) => set({ [key]: event.target.value })}
      />
    </label>
  );
  return (
    <div className="row-form" role="group" aria-label="Retry configuration">
      {number('Retries', 'max_retries', 10)}
      <label className="grow">
        Backoff
        <select
          value={retry.backoff}
          onChange={(event) => set({ backoff: event.target.value as RetryDraft['backoff'] })}
        >
          <option value="exponential">exponential</option>
          <option value="fixed">fixed</option>
        </select>
      </label>
      {number('First delay (ms)', 'initial_delay_ms', 86_400_000)}
      {number('Longest delay (ms)', 'max_delay_ms', 86_400_000)}
      {RETRY_ON.map((status) => (
        <label className="inline" key={status}>
          <input
            type="checkbox"
            checked={retry.retry_on.includes(status)}
            onChange={(event) =>
              set({
                retry_on: event.target.checked
                  ? [...retry.retry_on, status]
                  : retry.retry_on.filter((each) => each !== status),
              })
            }
          />
          Retry when {status === 'failed' ? 'failed' : 'timed out'}
        </label>
      ))}
    </div>
  );
}
