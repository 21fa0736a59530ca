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

function describe(value: unknown): string {
  if (Array.isArray(value)) return value.map((item) => describe(item)).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
