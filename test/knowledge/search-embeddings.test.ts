import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createEmbeddingModel } from '../../src/knowledge/embeddings.js';
import { ModelError } from '../../src/models/model-port.js';
import {
  fakeEmbedding,
  startFakeEmbeddingsServer,
  type FakeEmbeddingsServer,
} from '../fixtures/fake-embeddings-server.js';

let server: FakeEmbeddingsServer;

beforeAll(async () => {
  server = await startFakeEmbeddingsServer();
});

afterAll(async () => {
  await server?.close();
});

describe('createEmbeddingModel', () => {
  it('reaches Ollama through its OpenAI-compatible /v1 and returns one vector per text, in order', async () => {
    const config = loadConfig({ EMBEDDING_MODEL: 'ollama:nomic-embed-text', OLLAMA_BASE_URL: server.baseUrl });
    const model = createEmbeddingModel(config.knowledge.embeddingModel!, config.models);
    expect(model.id).toBe('ollama:nomic-embed-text');
    const vectors = await model.embed(['first text', 'second text']);
    expect(vectors.map((vector) => [...vector])).toEqual([
      [...fakeEmbedding('first text')],
      [...fakeEmbedding('second text')],
    ]);
    expect(server.requests.at(-1)).toEqual({ model: 'nomic-embed-text', input: ['first text', 'second text'] });
  });

  it('reaches OpenAI with its key and base URL', async () => {
    const config = loadConfig({ OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: server.baseUrl });
    const model = createEmbeddingModel('openai:text-embedding-3-small', config.models);
    expect(await model.embed(['hello'])).toHaveLength(1);
    expect(server.requests.at(-1)).toEqual({ model: 'text-embedding-3-small', input: ['hello'] });
  });

  it('refuses a provider that is not configured, naming what to set', () => {
    const { models } = loadConfig({});
    const attempt = (spec: string) => () => createEmbeddingModel(spec, models);
    expect(attempt('openai:text-embedding-3-small')).toThrow(
      new ModelError(
        'not_configured',
        'Embedding model "openai:text-embedding-3-small" needs OPENAI_API_KEY to be set',
      ),
    );
    expect(attempt('openai-compatible:nowhere/model')).toThrow(/set OPENAI_COMPATIBLE_ENDPOINTS/);
    expect(attempt('cohere:embed')).toThrow(/Unknown embedding provider "cohere"/);
  });

  it('propagates a provider failure at indexing time', async () => {
    const config = loadConfig({ EMBEDDING_MODEL: 'ollama:nomic-embed-text', OLLAMA_BASE_URL: server.baseUrl });
    const model = createEmbeddingModel(config.knowledge.embeddingModel!, config.models);
    server.failing = true;
    try {
      await expect(model.embed(['text'])).rejects.toThrow(/server had an error/);
    } finally {
      server.failing = false;
    }
  });
});
