import { useEffect, useState, type FormEvent } from 'react';
import { must, errorDetail, type Schemas } from '../api.ts';
import { ErrorNote, Json, useAction, useClient } from '../ui.tsx';
import { Timeline } from './ExecutionTimeline.tsx';
import { asText, asValue, isFinal, type Flow } from './flow-fields.ts';

type Execution = Schemas['FlowExecution'];

/** How often a running execution is read again (GET …/executions/{id}) until its status is final. */
const POLL_MS = 1000;

/** "Run now": the flow's variables as a form, POST /api/v1/flows/execute, then the execution live. */
export function FlowRun({ flow }: { flow: Flow }) {
  const client = useClient();
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(flow.variables.map((variable) => [variable.name, asText(variable.default)])),
  );
  const [execution, setExecution] = useState<Execution | null>(null);
  const pollError = useFollow(execution, setExecution);
  const action = useAction();
  const run = async (event: FormEvent) => {
    event.preventDefault();
    await action.run(async () => {
      const variables: Record<string, unknown> = {};
      for (const variable of flow.variables) {
        const text = values[variable.name] ?? '';
        if (text !== '') variables[variable.name] = asValue(text, variable.type, variable.name);
      }
      const body = { flow_id: flow.id, trigger_type: 'manual' as const, variables };
      setExecution(must(await client.POST('/api/v1/flows/execute', { body })).execution);
    });
  };
  return (
    <section className="card editor" aria-label={`Run ${flow.name}`}>
      <h2>Run {flow.name} now</h2>
      <form className="row-form" onSubmit={run} aria-label="Variables of the run">
        {flow.variables.map((variable) => (
          <label key={variable.name} className="grow">
            {variable.name}{' '}
            <span className="hint">
              ({variable.type}
              {variable.required ? ', required' : ''})
            </span>
            <input
              value={values[variable.name] ?? ''}
              onChange={(event) => setValues({ ...values, [variable.name]: event.target.value })}
              required={variable.required && variable.default === undefined}
            />
          </label>
        ))}
        {flow.variables.length === 0 && <p className="muted">This flow has no variables.</p>}
        <button type="submit" disabled={action.busy || (execution !== null && !isFinal(execution.status))}>
          Run now
        </button>
      </form>
      <ErrorNote error={action.error} />
      {execution && <ExecutionState execution={execution} error={pollError} />}
    </section>
  );
}

/** Reads the execution again every POLL_MS until its status is final; answers the last read's error. */
function useFollow(execution: Execution | null, onRead: (execution: Execution) => void): string | null {
  const client = useClient();
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!execution || isFinal(execution.status)) return;
    // A read answered after the execution shown has changed (a new run) is dropped.
    let live = true;
    const timer = window.setTimeout(async () => {
      try {
        const params = { path: { execution_id: execution.id } };
        const read = must(await client.GET('/api/v1/flows/executions/{execution_id}', { params }));
        if (!live) return;
        onRead(read);
        setError(null);
      } catch (caught) {
        if (live) setError(errorDetail(caught));
      }
    }, POLL_MS);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [client, execution, onRead]);
  return error;
}

/** The execution's status as it changes; once final, its output and timeline. */
function ExecutionState({ execution, error }: { execution: Execution; error: string | null }) {
  return (
    <div className="editor" data-execution-id={execution.id}>
      <p role="status" aria-live="polite">
        Execution {execution.execution_number}:{' '}
        <span className={`badge ${execution.status}`} data-status={execution.status}>
          {execution.status}
        </span>
      </p>
      <ErrorNote error={error} />
      {isFinal(execution.status) && (
        <>
          {execution.final_output && <Json value={execution.final_output} />}
          <Timeline execution={execution} />
        </>
      )}
    </div>
  );
}
