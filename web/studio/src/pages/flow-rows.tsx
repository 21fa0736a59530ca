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

/** A text field of a row, bound to one of its string keys. */
function RowText<T>(props: {
  label: string;
  row: T;
  field: { [K in keyof T]: T[K] extends string ? K : never }[keyof T];
  set: (change: Partial<T>) => void;
  required?: boolean;
  pattern?: string;
  placeholder?: string;
}) {
  const { row, field, set, label, ...attributes } = props;
  return (
    <label className="grow">
      {label}
      <input
        value={row[field] as string}
        onChange={(event) => set({ [field]: event.target.value } as Partial<T>)}
        {...attributes}
      />
    </label>
  );
}

export function VariableRows(props: { rows: VariableDraft[]; onChange: (rows: VariableDraft[]) => void }) {
  return (
    <RowList
      legend="Variables"
      noun="Variable"
      {...props}
      blank={(): VariableDraft => ({ name: '', type: 'string', required: false, default: '' })}
    >
      {(row, set) => (
        <>
          <RowText label="Variable name" row={row} field="name" set={set} required pattern="[A-Za-z_][A-Za-z0-9_]*" />
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
          <RowText label="Default" row={row} field="default" set={set} />
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
      {...props}
      blank={() => ({ cron: '', timezone: browserZone, variables: '' })}
    >
      {(row, set) => (
        <>
          <RowText label="Cron" row={row} field="cron" set={set} required placeholder="0 9 * * 1-5" />
          <RowText label="Time zone" row={row} field="timezone" set={set} placeholder="UTC" />
          <RowText label="Schedule variables (JSON)" row={row} field="variables" set={set} placeholder="{}" />
        </>
      )}
    </RowList>
  );
}
