import { useState, type FormEvent } from 'react';
import { must } from '../api.ts';
import { ErrorNote, useAction, useClient } from '../ui.tsx';
import {
  placeholders,
  scheduleDrafts,
  schedulesOf,
  variableDrafts,
  variablesOf,
  VARIABLE_TYPES,
  type Flow,
  type ScheduleDraft,
  type VariableDraft,
  type VariableType,
} from './flow-fields.ts';

/** Creates a flow of the agent (`flow` null) or changes one; its schedules are replaced as a whole. */
export function FlowEditor(props: { agentId: string; flow: Flow | null; onSaved: () => void; onClose: () => void }) {
  const client = useClient();
  // The flow as last stored: a new flow's first save creates it, the next saves change it.
  const [flow, setFlow] = useState(props.flow);
  const [name, setName] = useState(flow?.name ?? '');
  const [instructions, setInstructions] = useState(flow?.instructions ?? '');
  const [variables, setVariables] = useState<VariableDraft[]>(() => variableDrafts(flow));
  const [schedules, setSchedules] = useState<ScheduleDraft[]>(() => scheduleDrafts(flow));
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const undeclared = placeholders(instructions).filter((each) => !variables.some((variable) => variable.name === each));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    let stored: Flow | null = null;
    const ok = await action.run(async () => {
      const body = { name, instructions, variables: variablesOf(variables), schedules: schedulesOf(schedules) };
      const path = { agent_id: props.agentId };
      stored = flow
        ? must(
            await client.PUT('/api/v1/agents/{agent_id}/flows/{flow_id}', {
              params: { path: { ...path, flow_id: flow.id } },
              body,
            }),
          )
        : must(await client.POST('/api/v1/agents/{agent_id}/flows', { params: { path }, body }));
    });
    if (ok && stored) {
      setFlow(stored);
      setSaved(true);
      props.onSaved();
    }
  };
  const title = flow ? `Edit ${flow.name}` : 'New flow';
  return (
    <form className="card editor" onSubmit={submit} aria-label={title}>
      <h2>{title}</h2>
      <label>
        Name
        <input value={name} onChange={(event) => setName(event.target.value)} required maxLength={255} />
      </label>
      <label>
        Instructions
        <textarea rows={4} value={instructions} onChange={(event) => setInstructions(event.target.value)} required />
        <span className="hint">
          Write {'{{name}}'} for a variable.
          {undeclared.length > 0 && ` Not declared yet: ${undeclared.join(', ')}.`}
        </span>
      </label>
      <VariableRows rows={variables} onChange={setVariables} />
      <ScheduleRows rows={schedules} onChange={setSchedules} />
      <ErrorNote error={action.error} />
      {saved && <p role="status">Saved.</p>}
      <div className="actions">
        <button type="submit" disabled={action.busy}>
          Save flow
        </button>
        <button type="button" className="secondary" onClick={props.onClose}>
          Close
        </button>
      </div>
    </form>
  );
}

/** Rows of a list the form edits in place: change one, remove one, add a blank one. */
function useRows<T>(rows: T[], onChange: (rows: T[]) => void) {
  return {
    set: (index: number, change: Partial<T>) =>
      onChange(rows.map((row, at) => (at === index ? { ...row, ...change } : row))),
    remove: (index: number) => onChange(rows.filter((_, at) => at !== index)),
    add: (row: T) => onChange([...rows, row]),
  };
}

function VariableRows(props: { rows: VariableDraft[]; onChange: (rows: VariableDraft[]) => void }) {
  const rows = useRows(props.rows, props.onChange);
  return (
    <fieldset className="editor">
      <legend>Variables</legend>
      {props.rows.map((row, index) => (
        <div className="row-form" key={index} role="group" aria-label={`Variable ${index + 1}`}>
          <label className="grow">
            Variable name
            <input
              value={row.name}
              onChange={(event) => rows.set(index, { name: event.target.value })}
              required
              pattern="[A-Za-z_][A-Za-z0-9_]*"
            />
          </label>
          <label>
            Type
            <select
              value={row.type}
              onChange={(event) => rows.set(index, { type: event.target.value as VariableType })}
            >
              {VARIABLE_TYPES.map((type) => (
                <option key={type}>{type}</option>
              ))}
            </select>
          </label>
          <label className="inline">
            <input
              type="checkbox"
              checked={row.required}
              onChange={(event) => rows.set(index, { required: event.target.checked })}
            />
            Required
          </label>
          <label className="grow">
            Default
            <input value={row.default} onChange={(event) => rows.set(index, { default: event.target.value })} />
          </label>
          <button type="button" className="secondary" onClick={() => rows.remove(index)}>
            Remove <span className="visually-hidden">variable {index + 1}</span>
          </button>
        </div>
      ))}
      <div>
        <button
          type="button"
          className="secondary"
          onClick={() => rows.add({ name: '', type: 'string', required: false, default: '' })}
        >
          Add variable
        </button>
      </div>
    </fieldset>
  );
}

function ScheduleRows(props: { rows: ScheduleDraft[]; onChange: (rows: ScheduleDraft[]) => void }) {
  const rows = useRows(props.rows, props.onChange);
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return (
    <fieldset className="editor">
      <legend>Schedules</legend>
      {props.rows.map((row, index) => (
        <div className="row-form" key={index} role="group" aria-label={`Schedule ${index + 1}`}>
          <label className="grow">
            Cron
            <input
              value={row.cron}
              onChange={(event) => rows.set(index, { cron: event.target.value })}
              required
              placeholder="0 9 * * 1-5"
            />
          </label>
          <label className="grow">
            Time zone
            <input
              value={row.timezone}
              onChange={(event) => rows.set(index, { timezone: event.target.value })}
              placeholder="UTC"
            />
          </label>
          <label className="grow">
            Schedule variables (JSON)
            <input
              value={row.variables}
              onChange={(event) => rows.set(index, { variables: event.target.value })}
              placeholder="{}"
            />
          </label>
          <button type="button" className="secondary" onClick={() => rows.remove(index)}>
            Remove <span className="visually-hidden">schedule {index + 1}</span>
          </button>
        </div>
      ))}
      <div>
        <button
          type="button"
          className="secondary"
          onClick={() => rows.add({ cron: '', timezone: browserZone, variables: '' })}
        >
          Add schedule
        </button>
      </div>
    </fieldset>
  );
}
