import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { modelCatalog } from '../../src/models/catalog.js';
import { client, createTestContext, type TestContext } from '../helpers/harness.js';

/** GET /api/v1/models: what an agent's `configuration.model` can name on this server. */

let context: TestContext;
beforeAll(async () => {
  context = await createTestContext();
});
afterAll(async () => {
  await context.close();
});

describe('GET /api/v1/models', () => {
  it('lists the demo model and the priced models, configured only where the server has credentials', async () => {
    const org = await context.newOrganization(['read']);
    const response = await client(context, org.key).get('/api/v1/models');
    expect(response.status).toBe(200);
    expect(response.body.models).toContainEqual({ id: 'demo', provider: 'demo', configured: true });
    expect(response.body.models).toContainEqual({ id: 'openai:gpt-4o-mini', provider: 'openai', configured: false });
    expect(response.body.models).toContainEqual({
      id: 'anthropic:claude-sonnet-4-5',
      provider: 'anthropic',
      configured: false,
    });
    expect(response.body.providers).toEqual([
      { provider: 'demo', configured: true, model_form: 'demo' },
      { provider: 'openai', configured: false, model_form: 'openai:<model>' },
      { provider: 'anthropic', configured: false, model_form: 'anthropic:<model>' },
      { provider: 'ollama', configured: true, model_form: 'ollama:<model>' },
    ]);
  });

  it('answers 401 without a key', async () => {
    const response = await context.parley.app.inject({ method: 'GET', url: '/api/v1/models' });
    expect(response.statusCode).toBe(401);
  });
});

describe('modelCatalog', () => {
  it('marks a provider configured by its key, adds MODEL_PRICING ids and openai-compatible endpoints', () => {
    const config = loadConfig({
      OPENAI_API_KEY: 'sk-test',
      OPENAI_COMPATIBLE_ENDPOINTS: 'vllm=http://127.0.0.1:8000/v1',
    });
    const catalog = modelCatalog(config.models, {
      'openai:gpt-5-nano': { input: 0.05, output: 0.4 },
      'anthropic:claude-opus-4-1': null,
    });
    expect(catalog.models).toContainEqual({ id: 'openai:gpt-5-nano', provider: 'openai', configured: true });
    expect(catalog.models).toContainEqual({ id: 'openai:gpt-4o', provider: 'openai', configured: true });
    expect(catalog.models.map((model) => model.id)).not.toContain('anthropic:claude-opus-4-1');
    expect(catalog.models.map((model) => model.id)).not.toContain('ollama:*');
    expect(catalog.providers).toContainEqual({
      provider: 'openai-compatible',
      configured: true,
      model_form: 'openai-compatible:vllm/<model>',
    });
  });
});
