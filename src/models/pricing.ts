import type { ModelPrice, PricingOverrides } from '../config-pricing.js';
import type { ModelUsage } from './model-port.js';

export type { ModelPrice } from '../config-pricing.js';

/**
 * List prices in USD per million tokens, for the cost estimate of a run (docs/usage.md). A key
 * ending in `*` prices every model id it is a prefix of; the longest such prefix wins, and an
 * exact id wins over any prefix. The demo model costs nothing, and so do local Ollama models.
 */
const BUILT_IN_PRICES: Readonly<Record<string, ModelPrice>> = {
  demo: { input: 0, output: 0 },
  'ollama:*': { input: 0, output: 0 },
  'openai:gpt-4.1': { input: 2, output: 8 },
  'openai:gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'openai:gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'openai:gpt-4o': { input: 2.5, output: 10 },
  'openai:gpt-4o-mini': { input: 0.15, output: 0.6 },
  'anthropic:claude-sonnet-4-5': { input: 3, output: 15 },
  'anthropic:claude-haiku-4-5': { input: 1, output: 5 },
  'anthropic:claude-opus-4-1': { input: 15, output: 75 },
};

/** The exact model ids the price table names (built-in and `MODEL_PRICING`), wildcards left out. */
export function pricedModelIds(overrides: PricingOverrides = {}): string[] {
  const ids = new Set(Object.keys(BUILT_IN_PRICES));
  for (const [modelId, price] of Object.entries(overrides)) {
    if (price === null) ids.delete(modelId);
    else ids.add(modelId);
  }
  return [...ids].filter((id) => !id.endsWith('*')).sort();
}

export interface PricingTable {
  /** The model's price, or null when neither the built-in table nor the operator's names it. */
  priceOf(modelId: string): ModelPrice | null;
  /** What the usage cost in USD, or null (not 0) for a model without a price. */
  costOf(modelId: string, usage: ModelUsage): number | null;
}

/** The built-in prices with the operator's `MODEL_PRICING` over them (null removes one). */
export function createPricingTable(overrides: PricingOverrides = {}): PricingTable {
  const prices = new Map<string, ModelPrice>(Object.entries(BUILT_IN_PRICES));
  for (const [modelId, price] of Object.entries(overrides)) {
    if (price === null) prices.delete(modelId);
    else prices.set(modelId, price);
  }
  const prefixes = [...prices.entries()]
    .filter(([key]) => key.endsWith('*'))
    .map(([key, price]) => ({ prefix: key.slice(0, -1), price }))
    .sort((left, right) => right.prefix.length - left.prefix.length);
  const priceOf = (modelId: string): ModelPrice | null =>
    prices.get(modelId) ?? prefixes.find((entry) => modelId.startsWith(entry.prefix))?.price ?? null;
  return {
    priceOf,
    costOf(modelId, usage) {
      const price = priceOf(modelId);
      if (!price) return null;
      return (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000;
    },
  };
}
