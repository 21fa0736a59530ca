import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { readPricingOverrides } from '../../src/config-pricing.js';
import { createPricingTable } from '../../src/models/pricing.js';

describe('the pricing table', () => {
  const usage = { inputTokens: 2_000_000, outputTokens: 1_000_000 };

  it('prices built-in models, makes demo and Ollama free and leaves unknown models without a cost', () => {
    const table = createPricingTable();
    expect(table.costOf('openai:gpt-4.1-mini', usage)).toBe(2.4);
    expect(table.costOf('demo', usage)).toBe(0);
    expect(table.costOf('ollama:llama3.2', usage)).toBe(0);
    expect(table.costOf('openai:gpt-5-unknown', usage)).toBeNull();
    expect(table.costOf('openai-compatible:vllm/qwen', usage)).toBeNull();
  });

  it('takes the operator’s prices over the built-in ones: exact ids, the longest prefix, null to remove', () => {
    const table = createPricingTable({
      'openai:gpt-4.1-mini': { input: 1, output: 2 },
      'openai-compatible:*': { input: 5, output: 5 },
      'openai-compatible:vllm/*': { input: 0.5, output: 0.5 },
      'openai-compatible:vllm/special': { input: 9, output: 9 },
      'anthropic:claude-opus-4-1': null,
    });
    expect(table.costOf('openai:gpt-4.1-mini', usage)).toBe(4);
    expect(table.costOf('openai-compatible:lmstudio/x', usage)).toBe(15);
    expect(table.costOf('openai-compatible:vllm/qwen', usage)).toBe(1.5);
    expect(table.costOf('openai-compatible:vllm/special', usage)).toBe(27);
    expect(table.costOf('anthropic:claude-opus-4-1', usage)).toBeNull();
    expect(table.priceOf('anthropic:claude-sonnet-4-5')).toEqual({ input: 3, output: 15 });
  });
});

describe('MODEL_PRICING', () => {
  it('reads a JSON object of prices and nulls', () => {
    expect(readPricingOverrides({})).toEqual({});
    expect(readPricingOverrides({ MODEL_PRICING: '{"openai:gpt-4o":{"input":2,"output":8},"ollama:*":null}' })).toEqual(
      { 'openai:gpt-4o': { input: 2, output: 8 }, 'ollama:*': null },
    );
  });

  it('fails start-up naming the variable for anything else', () => {
    for (const value of [
      'not json',
      '[1,2]',
      '{"demo":{"input":1}}',
      '{"demo":{"input":-1,"output":1}}',
      '{"demo":{"input":1,"output":"2"}}',
      '{"demo":{"input":1,"output":2,"cached":1}}',
      '{"demo":5}',
      '{"":{"input":1,"output":1}}',
    ]) {
      expect(() => readPricingOverrides({ MODEL_PRICING: value }), value).toThrow(ConfigError);
      expect(() => readPricingOverrides({ MODEL_PRICING: value }), value).toThrow(/MODEL_PRICING/);
    }
  });
});
