import { describe, expect, it } from 'vitest';
import { buildSystemPrompt } from '../../src/runtime/system-prompt.js';
import { random } from '../helpers/random.js';
import { fastestOf } from '../helpers/time-ratio.js';

/** A JSON value, as agent configurations hold them. */
type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** How persona values were described before they were built in one list of parts: the reference. */
function referenceDescribe(value: unknown): string {
  if (Array.isArray(value)) return value.map((item) => referenceDescribe(item)).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function generatedValue(next: () => number, depth = 0): JsonValue {
  const pick = Math.floor(next() * (depth > 4 ? 5 : 7));
  if (pick === 0) return null;
  if (pick === 1) return Math.floor(next() * 100) - 50;
  if (pick === 2) return next() < 0.5;
  if (pick === 3 || pick === 4) return ['', 'a', 'x, y', '"q"', '\n'][Math.floor(next() * 5)]!;
  if (pick === 5) return Array.from({ length: Math.floor(next() * 4) }, () => generatedValue(next, depth + 1));
  return { k: generatedValue(next, depth + 1) };
}

describe('the system prompt', () => {
  it('is the instructions, then a "Label: value" line per persona key', () => {
    expect(
      buildSystemPrompt({
        name: 'Helper',
        configuration: {
          model: 'demo',
          instructions: '  Be brief.  ',
          tone: 'Friendly',
          target_audience: ['developers', ['admins', 'owners']],
          'escalation-policy': { after: 3 },
          empty: '',
        },
      }),
    ).toBe('Be brief.\n\nTone: Friendly\nTarget audience: developers, admins, owners\nEscalation policy: {"after":3}');
    expect(buildSystemPrompt({ name: 'Helper', configuration: {} })).toBe('You are Helper, a helpful assistant.');
  });

  it('describes every value as before, on 2,000 generated values', () => {
    const next = random(11);
    for (let index = 0; index < 2000; index += 1) {
      const value = generatedValue(next);
      if (value === null || value === '') continue;
      const prompt = buildSystemPrompt({ name: 'A', configuration: { instructions: 'I', persona: value } });
      expect(prompt, JSON.stringify(value)).toBe(`I\n\nPersona: ${referenceDescribe(value)}`);
    }
  });

  it('costs about as much for a 1 MiB value nested 195 arrays deep as for the same value flat', async () => {
    const text = 'x'.repeat(1024 * 1024);
    let deep: JsonValue = text;
    for (let depth = 0; depth < 195; depth += 1) deep = [deep, 'y'];
    const flat: JsonValue = [text, ...Array.from({ length: 195 }, () => 'y')];
    const prompt = (value: JsonValue) => buildSystemPrompt({ name: 'A', configuration: { tone: value } });
    expect(prompt(deep)).toBe(prompt(flat));
    const flatTime = await fastestOf(() => prompt(flat), 5);
    const deepTime = await fastestOf(() => prompt(deep), 5);
    // Before, the deep value cost 115 times the flat one; now about 1.
    expect(deepTime / flatTime).toBeLessThan(4);
  });
});
