import type { JsonObject } from '../domain/models.js';

/** Configuration keys that steer the runtime and are not part of the persona. */
const RUNTIME_KEYS = new Set(['model', 'instructions', 'temperature', 'max_steps', 'tools', 'max_output_tokens']);

/**
 * The system prompt: the agent's instructions, then its free-form persona keys (tone, role, goal,
 * …) as "Label: value" lines. Only the agent's own configuration goes here — never tool output
 * or user text, which reach the model as their own messages.
 */
export function buildSystemPrompt(agent: { name: string; configuration: JsonObject }): string {
  const { configuration } = agent;
  const lines: string[] = [];
  const instructions = typeof configuration.instructions === 'string' ? configuration.instructions.trim() : '';
  lines.push(instructions === '' ? `You are ${agent.name}, a helpful assistant.` : instructions);
  const persona = Object.entries(configuration).filter(
    ([key, value]) => !RUNTIME_KEYS.has(key) && value !== null && value !== undefined && value !== '',
  );
  if (persona.length > 0) {
    lines.push('');
    for (const [key, value] of persona) lines.push(`${labelOf(key)}: ${describe(value)}`);
  }
  return lines.join('\n');
}

function labelOf(key: string): string {
  const words = key.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * A value as text: arrays as their items joined by ", " (nested arrays flattened), objects as
 * JSON. Built in one list of parts: joining each nested array's text into its parent's copied the
 * innermost text once per level (a 1 MiB string 195 arrays deep took 124 ms, once per run).
 */
function describe(value: unknown): string {
  const parts: string[] = [];
  describeInto(value, parts);
  return parts.join('');
}

function describeInto(value: unknown, parts: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      if (index > 0) parts.push(', ');
      describeInto(item, parts);
    });
  } else {
    parts.push(typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
}
