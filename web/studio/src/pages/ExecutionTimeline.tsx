import type { Schemas } from '../api.ts';
import { ErrorNote, Json } from '../ui.tsx';

/** One execution's steps as bars on its own time axis (model and tool spans), with input and output. */
export function Timeline({ execution }: { execution: Schemas['FlowExecution'] }) {
  const start = Date.parse(execution.started_at);
  const total = Math.max(1, execution.duration_ms ?? 1);
  return (
    <section className="card" aria-label="Timeline">
      <h2>Execution {execution.execution_number}</h2>
      <ErrorNote error={execution.error_message} />
      <ol className="timeline">
        {execution.steps.map((step) => {
          const offset = Math.max(0, Date.parse(step.started_at) - start);
          const width = Math.max(1, ((step.duration_ms ?? 0) / total) * 100);
          return (
            <li key={step.step_id} className="step" data-step-type={step.step_type}>
              <div className="step-head">
                <strong>{step.step_name}</strong>
                <span className="muted">{step.step_type}</span>
                <span className={`badge ${step.status}`}>{step.status}</span>
                <span className="muted">{step.duration_ms === null ? '' : `${step.duration_ms} ms`}</span>
              </div>
              <div className="bar-track" aria-hidden="true">
                <div
                  className="bar"
                  style={{ marginLeft: `${Math.min(99, (offset / total) * 100)}%`, width: `${Math.min(100, width)}%` }}
                />
              </div>
              <details>
                <summary>Input and output</summary>
                <Json value={{ input: step.input_data, output: step.output_data, metadata: step.metadata }} />
              </details>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
