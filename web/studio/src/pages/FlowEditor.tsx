import { useState, type FormEvent } from 'react';
import { must } from '../api.ts';
import { EditorEnd, useAction, useClient } from '../ui.tsx';
import { flowBody, flowDraft, outputSchemaError, type FlowDraft } from './flow-draft.ts';
import { placeholders, type Flow } from './flow-fields.ts';
import { ScheduleRows, VariableRows } from './flow-rows.tsx';
import { FlowDefaults, FlowTools, OutputSchemaField } from './flow-settings.tsx';

/**
 * Creates a flow of the agent (`flow` null) or changes one: every field of a flow definition
 * (docs/flows.md); its schedules are replaced as a whole.
 */
export function FlowEditor(props: { agentId: string; flow: Flow | null; onSaved: () => void; onClose: () => void }) {
  const client = useClient();
  // The flow as last stored: a new flow's first save creates it, the next saves change it.
  const [flow, setFlow] = useState(props.flow);
  const [draft, setDraft] = useState<FlowDraft>(() => flowDraft(props.flow));
  const change = (fields: Partial<FlowDraft>) => setDraft((previous) => ({ ...previous, ...fields }));
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const undeclared = placeholders(draft.instructions).filter(
    (each) => !draft.variables.some((variable) => variable.name === each),
  );
  const schemaError = outputSchemaError(draft.outputSchema);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    let stored: Flow | null = null;
    const ok = await action.run(async () => {
      const body = flowBody(draft);
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
        <input value={draft.name} onChange={(event) => change({ name: event.target.value })} required maxLength={255} />
      </label>
      <label>
        Description
        <input
          value={draft.description}
          onChange={(event) => change({ description: event.target.value })}
          maxLength={2000}
        />
      </label>
      <label>
        Instructions
        <textarea
          rows={4}
          value={draft.instructions}
          onChange={(event) => change({ instructions: event.target.value })}
          required
        />
        <span className="hint">
          Write {'{{name}}'} for a variable.
          {undeclared.length > 0 && ` Not declared yet: ${undeclared.join(', ')}.`}
        </span>
      </label>
      <VariableRows rows={draft.variables} onChange={(variables) => change({ variables })} />
      <FlowTools agentId={props.agentId} chosen={draft.tools} onChange={(tools) => change({ tools })} />
      <OutputSchemaField value={draft.outputSchema} error={schemaError} onChange={change} />
      <FlowDefaults draft={draft} onChange={change} />
      <ScheduleRows rows={draft.schedules} onChange={(schedules) => change({ schedules })} />
      <EditorEnd
        error={action.error}
        saved={saved}
        submit={{ label: 'Save flow', disabled: action.busy || schemaError !== null }}
        onClose={props.onClose}
      />
    </form>
  );
}
