import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { embedMany, type EmbeddingModel as AiSdkEmbeddingModel } from 'ai';
import type { ModelProvidersConfig } from '../config.js';
import { ModelError } from '../models/model-port.js';

/**
 * An embedding model (docs/knowledge-search.md, "Embeddings"): texts in, one vector per text out,
 * in order. `id` is the configured spec (`EMBEDDING_MODEL`), kept with nothing else: vectors of
 * two models are never compared, because changing the model means re-indexing.
 */
export interface EmbeddingModel {
  readonly id: string;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
}

/**
 * Texts per provider call. OpenAI takes up to 2048 inputs a call, but local servers (Ollama,
 * llama.cpp) process a call as one batch in memory; 64 keeps a call small for them while a
 * 350-token chunk batch stays far below OpenAI's 300k-tokens-per-request cap.
 */
export const EMBEDDING_BATCH_SIZE = 64;
// One retry (after the AI SDK's 2 s back-off) for a 429/5xx or a dropped connection: its default of
// two more (2 s + 4 s) would hold a search that falls back to full text for six seconds.

/**
 * From `config.knowledge.embeddingModel` (`openai:<model>`, `ollama:<model>`,
 * `openai-compatible:<endpoint>/<model>`) and the chat models' provider settings: the same keys,
 * base URLs and named endpoints as src/models/registry.ts, so an operator configures a provider
 * once. A provider that is not configured is a ModelError('not_configured') at start.
 */
export function createEmbeddingModel(spec: string, models: ModelProvidersConfig): EmbeddingModel {
  const model = providerModel(spec, models);
  return {
    id: spec,
    async embed(texts, signal) {
      const vectors: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += EMBEDDING_BATCH_SIZE) {
        const values = texts.slice(start, start + EMBEDDING_BATCH_SIZE);
        const result = await embedMany({ model, values, abortSignal: signal, maxParallelCalls: 1, maxRetries: 1 });
        if (result.embeddings.length !== values.length) {
          throw new ModelError(
            'provider_error',
            `Embedding model "${spec}" returned ${result.embeddings.length} vectors for ${values.length} texts`,
          );
        }
        for (const embedding of result.embeddings) vectors.push(Float32Array.from(embedding));
      }
      return vectors;
    },
  };
}

function providerModel(spec: string, models: ModelProvidersConfig): AiSdkEmbeddingModel {
  const separator = spec.indexOf(':');
  const provider = spec.slice(0, separator);
  const name = spec.slice(separator + 1);
  if (separator === -1 || name === '') {
    throw new ModelError('invalid_model', `Embedding model "${spec}" is not of the form provider:model`);
  }
  switch (provider) {
    case 'openai': {
      if (!models.openai.apiKey) {
        throw new ModelError('not_configured', `Embedding model "${spec}" needs OPENAI_API_KEY to be set`);
      }
      return createOpenAI({ apiKey: models.openai.apiKey, baseURL: models.openai.baseUrl }).embeddingModel(name);
    }
    case 'ollama':
      return createOpenAICompatible({ name: 'ollama', baseURL: models.ollamaBaseUrl }).embeddingModel(name);
    case 'openai-compatible': {
      const slash = name.indexOf('/');
      const endpointName = slash === -1 ? '' : name.slice(0, slash).toLowerCase();
      const model = slash === -1 ? '' : name.slice(slash + 1);
      const endpoint = models.openaiCompatible[endpointName];
      if (!endpoint || model === '') {
        throw new ModelError(
          'not_configured',
          `Embedding model "${spec}" names no configured OpenAI-compatible endpoint (set OPENAI_COMPATIBLE_ENDPOINTS)`,
        );
      }
      return createOpenAICompatible({
        name: endpointName,
        baseURL: endpoint.baseUrl,
        apiKey: endpoint.apiKey,
      }).embeddingModel(model);
    }
    default:
      throw new ModelError('invalid_model', `Unknown embedding provider "${provider}" in "${spec}"`);
  }
}
