import { Ajv, type ValidateFunction } from 'ajv';
import type { JsonObject } from '../domain/models.js';
import type { Tool } from '../tools/tool.js';

/** `json`: the result's JSON text, made while the call can still fail (a result JSON cannot say is an error). */
export type ToolOutcome = { ok: true; result: unknown; json: string } | { ok: false; error: string };

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = new WeakMap<Tool, ValidateFunction>();

function validatorFor(tool: Tool): ValidateFunction {
  let validate = validators.get(tool);
  if (!validate) {
    validate = ajv.compile(tool.inputSchema);
    validators.set(tool, validate);
  }
  return validate;
}

/**
 * Runs one tool call. Whatever happens — an unknown tool, input that does not match the tool's
 * schema, a throw, a timeout, cancellation — the outcome is a value, never an exception: the
 * model gets an error result and the run goes on.
 */
export async function runTool(input: {
  tool: Tool | undefined;
  toolName: string;
  arguments: JsonObject;
  timeoutMs: number;
  signal: AbortSignal;
  now: () => Date;
}): Promise<ToolOutcome> {
  const { tool } = input;
  if (!tool) return { ok: false, error: `Tool "${input.toolName}" is not available to this agent` };
  const problems = argumentProblems(tool, input.arguments);
  if (problems.length > 0) return { ok: false, error: `Invalid arguments for ${tool.name}: ${problems.join('; ')}` };
  const timeoutMs = tool.timeoutMs ?? input.timeoutMs;
  const controller = new AbortController();
  const onAbort = () => controller.abort(input.signal.reason);
  input.signal.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`Tool ${tool.name} timed out after ${timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  const cancelled = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  try {
    const result = await Promise.race([
      tool.execute(input.arguments, { signal: controller.signal, now: input.now }),
      deadline,
      cancelled,
    ]);
    return { ok: true, result: result ?? null, json: JSON.stringify(result ?? null) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
    input.signal.removeEventListener('abort', onAbort);
  }
}

/** How `input` fails the tool's input schema, one line per problem; empty when it matches. */
export function argumentProblems(tool: Tool, input: JsonObject): string[] {
  if (tool.serverValidatesInput === true) return [];
  const validate = validatorFor(tool);
  if (validate(input)) return [];
  return (validate.errors ?? []).map((error) => `${error.instancePath || 'input'} ${error.message ?? ''}`.trim());
}
