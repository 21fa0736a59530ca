import type { ModelUsage } from './model-port.js';

/**
 * List prices in USD per million tokens (input, output), for the cost estimate of a run. A model
 * not listed has no estimate (null) rather than a guess; the demo model costs nothing.
 */
const PRICES: Record<string, [number, number]> = {
  demo: [0, 0],
  'openai:gpt-4.1': [2, 8],
  'openai:gpt-4.1-mini': [0.4, 1.6],
  'openai:gpt-4.1-nano': [0.1, 0.4],
  'openai:gpt-4o': [2.5, 10],
  'openai:gpt-4o-mini': [0.15, 0.6],
  'anthropic:claude-sonnet-4-5': [3, 15],
  'anthropic:claude-haiku-4-5': [1, 5],
  'anthropic:claude-opus-4-1': [15, 75],
};

export function estimateCost(modelId: string, usage: ModelUsage): number | null {
  if (modelId.startsWith('ollama:')) return 0;
  const price = PRICES[modelId];
  if (!price) return null;
  return (usage.inputTokens * price[0] + usage.outputTokens * price[1]) / 1_000_000;
}
