import type { Schemas } from '../api.ts';
import {
  asValue,
  scheduleDrafts,
  schedulesOf,
  variableDrafts,
  variablesOf,
  type Flow,
  type ScheduleDraft,
  type VariableDraft,
} from './flow-fields.ts';

/**
 * The whole flow form as typed text (`FlowDraft`), made from a stored flow and turned back into
 * the body of POST or PUT …/flows. An empty default field sends `null`: the flow then has none and
 * an execution uses the server's (docs/flows.md).
 */
export type RetryConfig = Schemas['RetryConfig'];
export type Priority = NonNullable<Flow['priority']>;
export type RetryOn = RetryConfig['retry_on'][number];
export const PRIORITIES: Priority[] = ['low', 'normal', 'high', 'urgent'];
export const RETRY_ON: RetryOn[] = ['failed', 'timeout'];

export interface RetryDraft {
  max_retries: string;
  backoff: RetryConfig['backoff'];
  initial_delay_ms: string;
  max_delay_ms: string;
  retry_on: RetryOn[];
}

/** The server's defaults for a retry configuration (flows.schemas.ts), as the form starts it. */
export const NEW_RETRY: RetryDraft = {
  max_retries: '3',
  backoff: 'exponential',
  initial_delay_ms: '1000',
  max_delay_ms: '60000',
  retry_on: ['failed', 'timeout'],
};

export interface FlowDraft {
  name: string;
  description: string;
  instructions: string;
  variables: VariableDraft[];
  /** The agent's tools the flow may use: none unless chosen (least privilege). */
  tools: string[];
  outputSchema: string;
  timeoutSeconds: string;
  priority: Priority | '';
  /** `null`: the flow has no retry configuration of its own. */
  retry: RetryDraft | null;
  schedules: ScheduleDraft[];
}

const retryDraft = (retry: RetryConfig): RetryDraft => ({
  max_retries: String(retry.max_retries),
  backoff: retry.backoff,
  initial_delay_ms: String(retry.initial_delay_ms),
  max_delay_ms: String(retry.max_delay_ms),
  retry_on: retry.retry_on,
});

export function flowDraft(flow: Flow | null): FlowDraft {
  return {
    name: flow?.name ?? '',
    description: flow?.description ?? '',
    instructions: flow?.instructions ?? '',
    variables: variableDrafts(flow),
    tools: flow?.tools ?? [],
    outputSchema: flow?.output_schema ? JSON.stringify(flow.output_schema, null, 2) : '',
    timeoutSeconds: flow?.timeout_seconds == null ? '' : String(flow.timeout_seconds),
    priority: flow?.priority ?? '',
    retry: flow?.retry_config ? retryDraft(flow.retry_config) : null,
    schedules: scheduleDrafts(flow),
  };
}

/** Why the output schema's text is not a JSON object, or null when it is one (or empty). */
export function outputSchemaError(text: string): string | null {
  if (!text.trim()) return null;
  try {
    asValue(text, 'object', 'Output schema');
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

const wholeNumber = (text: string, field: string) => {
  const number = asValue(text, 'number', field) as number;
  if (!Number.isInteger(number)) throw new Error(`${field}: not a whole number.`);
  return number;
};

const retryOf = (retry: RetryDraft): RetryConfig => ({
  max_retries: wholeNumber(retry.max_retries, 'Retries'),
  backoff: retry.backoff,
  initial_delay_ms: wholeNumber(retry.initial_delay_ms, 'First delay'),
  max_delay_ms: wholeNumber(retry.max_delay_ms, 'Longest delay'),
  retry_on: retry.retry_on,
});

/** The body of POST or PUT …/flows; throws an Error naming the field a text does not fit. */
export function flowBody(draft: FlowDraft) {
  return {
    name: draft.name,
    description: draft.description.trim() || null,
    instructions: draft.instructions,
    variables: variablesOf(draft.variables),
    tools: draft.tools,
    output_schema: draft.outputSchema.trim()
      ? (asValue(draft.outputSchema, 'object', 'Output schema') as Record<string, unknown>)
      : null,
    timeout_seconds: draft.timeoutSeconds.trim() ? wholeNumber(draft.timeoutSeconds, 'Timeout') : null,
    priority: draft.priority || null,
    retry_config: draft.retry ? retryOf(draft.retry) : null,
    schedules: schedulesOf(draft.schedules),
  };
}
