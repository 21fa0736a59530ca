import { ConfigError, readOptional, type Environment } from './config-values.js';

/** A model's list price in USD per million tokens. */
export interface ModelPrice {
  readonly input: number;
  readonly output: number;
}

/**
 * The operator's prices over the built-in ones (docs/usage.md, "Pricing"): model id, or a
 * prefix ending in `*` (`openai-compatible:vllm/*`), → price; null takes a built-in price away
 * (the model's runs then have no cost estimate).
 */
export type PricingOverrides = Readonly<Record<string, ModelPrice | null>>;

const MAX_PRICE = 1_000_000;
const VARIABLE = 'MODEL_PRICING';

/**
 * `MODEL_PRICING={"openai:gpt-4.1-mini":{"input":0.4,"output":1.6},"ollama:*":null}`: a JSON
 * object; each price has exactly `input` and `output`, numbers from 0 to 1,000,000.
 */
export function readPricingOverrides(environment: Environment): PricingOverrides {
  const raw = readOptional(environment, VARIABLE);
  if (raw === undefined) return Object.freeze({});
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(
      VARIABLE,
      'must be a JSON object of model id → {"input": USD, "output": USD} per million tokens',
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(
      VARIABLE,
      'must be a JSON object of model id → {"input": USD, "output": USD} per million tokens',
    );
  }
  const overrides: Record<string, ModelPrice | null> = {};
  for (const [modelId, price] of Object.entries(parsed)) {
    if (modelId.trim() === '' || modelId.length > 200)
      throw new ConfigError(VARIABLE, 'has an empty or overlong model id');
    overrides[modelId] = price === null ? null : readPrice(modelId, price);
  }
  return Object.freeze(overrides);
}

function readPrice(modelId: string, value: unknown): ModelPrice {
  const fields = typeof value === 'object' && value !== null ? Object.keys(value) : [];
  const { input, output } = (value ?? {}) as { input?: unknown; output?: unknown };
  const valid = (amount: unknown) =>
    typeof amount === 'number' && Number.isFinite(amount) && amount >= 0 && amount <= MAX_PRICE;
  if (fields.length !== 2 || !valid(input) || !valid(output)) {
    throw new ConfigError(
      VARIABLE,
      `has a bad price for "${modelId}": expected {"input": n, "output": n} (USD per million tokens, 0 to ${MAX_PRICE}) or null`,
    );
  }
  return Object.freeze({ input: input as number, output: output as number });
}
