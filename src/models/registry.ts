import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { ModelProvidersConfig } from '../config.js';
import { ModelError, type LanguageModel } from './model-port.js';
import { createAiSdkModel } from './providers/ai-sdk/ai-sdk-model.js';
import { createDemoModel, DEMO_MODEL_ID } from './providers/demo/demo-model.js';

/**
 * Resolves `configuration.model` to a model:
 * `demo`, `openai:<model>`, `anthropic:<model>`, `ollama:<model>`,
 * `openai-compatible:<endpoint name>/<model>`. Keys and base URLs come from the server's
 * configuration only, never from an agent. A model whose provider is not configured is a
 * ModelError('not_configured'), raised before anything is stored.
 */
export interface ModelRegistry {
  resolve(modelId: string): LanguageModel;
}

export const DEFAULT_MODEL_ID = DEMO_MODEL_ID;

export function createModelRegistry(config: ModelProvidersConfig): ModelRegistry {
  const demo = createDemoModel({ wordsPerSecond: config.demoWordsPerSecond });
  const cache = new Map<string, LanguageModel>();
  return {
    resolve(modelId) {
      if (modelId === DEMO_MODEL_ID) return demo;
      const cached = cache.get(modelId);
      if (cached) return cached;
      const model = build(modelId, config);
      if (cache.size > 1000) cache.clear();
      cache.set(modelId, model);
      return model;
    },
  };
}

function build(modelId: string, config: ModelProvidersConfig): LanguageModel {
  const separator = modelId.indexOf(':');
  const provider = separator === -1 ? modelId : modelId.slice(0, separator);
  const name = separator === -1 ? '' : modelId.slice(separator + 1);
  if (name === '') {
    throw new ModelError('invalid_model', `Model "${modelId}" is not of the form provider:model (or "demo")`);
  }
  switch (provider) {
    case 'openai': {
      if (!config.openai.apiKey) throw notConfigured(modelId, 'OPENAI_API_KEY');
      const openai = createOpenAI({ apiKey: config.openai.apiKey, baseURL: config.openai.baseUrl });
      return createAiSdkModel(modelId, openai.chat(name));
    }
    case 'anthropic': {
      if (!config.anthropic.apiKey) throw notConfigured(modelId, 'ANTHROPIC_API_KEY');
      const anthropic = createAnthropic({ apiKey: config.anthropic.apiKey, baseURL: config.anthropic.baseUrl });
      return createAiSdkModel(modelId, anthropic(name));
    }
    case 'ollama': {
      // `includeUsage` asks for the final usage chunk (`stream_options.include_usage`): without it
      // OpenAI-compatible servers send no token counts and every run would record zero.
      const ollama = createOpenAICompatible({ name: 'ollama', baseURL: config.ollamaBaseUrl, includeUsage: true });
      return createAiSdkModel(modelId, ollama.chatModel(name));
    }
    case 'openai-compatible': {
      const slash = name.indexOf('/');
      const endpointName = slash === -1 ? '' : name.slice(0, slash).toLowerCase();
      const model = slash === -1 ? '' : name.slice(slash + 1);
      const endpoint = config.openaiCompatible[endpointName];
      if (!endpoint || model === '') {
        throw new ModelError(
          'not_configured',
          `Model "${modelId}" names no configured OpenAI-compatible endpoint (set OPENAI_COMPATIBLE_ENDPOINTS)`,
        );
      }
      const provider = createOpenAICompatible({
        name: endpointName,
        baseURL: endpoint.baseUrl,
        apiKey: endpoint.apiKey,
        includeUsage: true,
      });
      return createAiSdkModel(modelId, provider.chatModel(model));
    }
    default:
      throw new ModelError('invalid_model', `Unknown model provider "${provider}" in "${modelId}"`);
  }
}

function notConfigured(modelId: string, variable: string): ModelError {
  return new ModelError('not_configured', `Model "${modelId}" needs ${variable} to be set on the server`);
}
