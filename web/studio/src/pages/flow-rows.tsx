import type { ReactNode } from 'react';
import { VARIABLE_TYPES, type ScheduleDraft, type VariableDraft, type VariableType } from './flow-fields.ts';

/**
 * A list the flow form edits in place: each row a labelled group with its remove button, and an
 * add button for a blank row. `noun` names the rows to a screen reader ("Variable 2").
 */
function RowList<T>(props: {
  legend: string;
  noun: string;
  rows: T[];
  onChange: (rows: T[]) => void;
  blank: () => T;
  children: (row: T, set: (change: Partial<T>) => void) => ReactNode;
}) {
  const { rows, onChange, noun } = props;
  const set = (index: number) => (change: Partial<T>) =>
    onChange(rows.map((row, at) => (at === index ? { ...row, ...change } : row)));
  return (
    <fieldset className="editor">
      <legend>{props.legend}</legend>
      {rows.map((row, index) => (
        <div className="row-form" key={index} role="group" aria-label={`${noun} ${index + 1}`}>
          {props.children(row, set(index))}
          <button type="button" className="secondary" onClick={() => onChange(rows.filter((_, at) => at !== index))}>
            Remove{' '}
            <span className="visually-hidden">
              {noun.toLowerCase()} {index + 1}
            </span>
          </button>
        </div>
      ))}
      <div>
        <button type="button" className="secondary" onClick={() => onChange([...rows, props.blank()])}>
          Add {noun.toLowerCase()}
        </button>
      </div>
    </fieldset>
  );
}

export function VariableRows(props: { rows: VariableDraft[]; onChange: (rows: VariableDraft[]) => void }) {
  return (
    <RowList
      legend="Variables"
      noun="Variable"
      rows={props.rows}
      onChange={props.onChange}
      blank={(): VariableDraft => ({ name: '', type: 'string', required: false, default: '' })}
    >
      {(row, set) => (
        <>
          <label className="grow">
            Variable name
            <input
              value={row.name}
              onChange={(event) => set({ name: event.target.value })}
              required
              pattern="[A-Za-z_][A-Za-z0-9_]*"
            />
          </label>
          <label>
            Type
            <select value={row.type} onChange={(event) => set({ type: event.target.value as VariableType })}>
              {VARIABLE_TYPES.map((type) => (
                <option key={type}>{type}</option>
              ))}
            </select>
          </label>
          <label className="inline">
            <input
              type="checkbox"
              checked={row.required}
              onChange={(event) => set({ required: event.target.checked })}
            />
            Required
          </label>
          <label className="grow">
            Default
            <input value={row.default} onChange={(event) => set({ default: event.target.value })} />
          </label>
        </>
      )}
    </RowList>
  );
}

export function ScheduleRows(props: { rows: ScheduleDraft[]; onChange: (rows: ScheduleDraft[]) => void }) {
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return (
    <RowList
      legend="Schedules"
      noun="Schedule"
      rows={props.rows}
      onChange={props.onChange}
      blank={() => ({ cron: '', timezone: browserZone, variables: '' })}
    >
      {(row, set) => (
        <>
          <label className="grow">
            Cron
            <input
              value={row.cron}
              onChange={(event) => set({ cron: event.target.value })}
              required
              placeholder="0 9 * * 1-5"
            />
          </label>
          <label className="grow">
            Time zone
            <input value={row.timezone} onChange={(event) => set({ timezone: event.target.value })} placeholder="UTC" />
          </label>
          <label className="grow">
            Schedule variables (JSON)
            <input
              value={row.variables}
              onChange={(event) => set({ variables: event.target.value })}
              placeholder="{}"
            />
          </label>
        </>
      )}
    </RowList>
  );
}
