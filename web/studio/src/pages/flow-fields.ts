import type { Schemas } from '../api.ts';

/**
 * The flow forms' fields as typed text, and back. A variable's value is read by its declared type
 * (a number, `true`/`false`, JSON for objects and arrays); empty text means "not given".
 */
export type Flow = Schemas['Flow'];
export type FlowVariable = Schemas['FlowVariable'];
export type VariableType = FlowVariable['type'];
export const VARIABLE_TYPES: VariableType[] = ['string', 'number', 'boolean', 'object', 'array'];

export interface VariableDraft {
  name: string;
  type: VariableType;
  required: boolean;
  default: string;
}

export interface ScheduleDraft {
  cron: string;
  timezone: string;
  variables: string;
}

/** A value as the text a field shows: strings as they are, the rest as JSON. */
export function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The text of a field as a value of `type`; throws an Error naming the field when it is not one. */
export function asValue(text: string, type: VariableType, field: string): unknown {
  if (type === 'string') return text;
  if (type === 'number') {
    const number = Number(text);
    if (text.trim() === '' || !Number.isFinite(number)) throw new Error(`${field}: not a number.`);
    return number;
  }
  if (type === 'boolean') {
    if (text !== 'true' && text !== 'false') throw new Error(`${field}: true or false.`);
    return text === 'true';
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${field}: not valid JSON.`);
  }
  if (
    type === 'array' ? !Array.isArray(parsed) : typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)
  )
    throw new Error(`${field}: not a JSON ${type}.`);
  return parsed;
}

export const variableDrafts = (flow: Flow | null): VariableDraft[] =>
  (flow?.variables ?? []).map((variable) => ({
    name: variable.name,
    type: variable.type,
    required: variable.required,
    default: asText(variable.default),
  }));

export const scheduleDrafts = (flow: Flow | null): ScheduleDraft[] =>
  (flow?.schedules ?? []).map((schedule) => ({
    cron: schedule.cron,
    timezone: schedule.timezone,
    variables: Object.keys(schedule.variables).length ? JSON.stringify(schedule.variables) : '',
  }));

export function variablesOf(drafts: VariableDraft[]): FlowVariable[] {
  return drafts.map((draft) => ({
    name: draft.name.trim(),
    type: draft.type,
    required: draft.required,
    ...(draft.default === '' ? {} : { default: asValue(draft.default, draft.type, `Default of ${draft.name}`) }),
  }));
}

export function schedulesOf(drafts: ScheduleDraft[]) {
  return drafts.map((draft, index) => ({
    cron: draft.cron.trim(),
    timezone: draft.timezone.trim() || 'UTC',
    ...(draft.variables.trim()
      ? {
          variables: asValue(draft.variables, 'object', `Variables of schedule ${index + 1}`) as Record<
            string,
            unknown
          >,
        }
      : {}),
  }));
}

/** The `{{name}}` placeholders of instructions, in order, each once. */
export function placeholders(instructions: string): string[] {
  return [...new Set([...instructions.matchAll(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)].map((match) => match[1]!))];
}

/** An execution's status that will not change any more. */
export const isFinal = (status: string) => ['completed', 'failed', 'cancelled', 'timeout'].includes(status);
