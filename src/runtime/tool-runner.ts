import { Ajv, type ValidateFunction } from 'ajv';
import type { JsonObject } from '../domain/models.js';
import type { Tool } from '../tools/tool.js';

/** Results larger than this (as JSON) are cut before they reach the model or the store. */
export const MAX_TOOL_RESULT_CHARACTERS = 64 * 1024;

export type ToolOutcome = { ok: true; result: unknown } | { ok: false; error: string };

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
  const validate = validatorFor(tool);
  if (!validate(input.arguments)) {
    const reasons = (validate.errors ?? []).map((error) =>
      `${error.instancePath || 'input'} ${error.message ?? ''}`.trim(),
    );
    return { ok: false, error: `Invalid arguments for ${tool.name}: ${reasons.join('; ')}` };
  }
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
    return { ok: true, result: capResult(result) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
    input.signal.removeEventListener('abort', onAbort);
  }
}

function capResult(result: unknown): unknown {
  const text = JSON.stringify(result ?? null);
  if (text.length <= MAX_TOOL_RESULT_CHARACTERS) return result ?? null;
  return { truncated: true, preview: text.slice(0, MAX_TOOL_RESULT_CHARACTERS), original_characters: text.length };
}
