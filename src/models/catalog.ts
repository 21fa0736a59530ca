import type { ModelProvidersConfig } from '../config.js';
import type { PricingOverrides } from '../config-pricing.js';
import { DEMO_MODEL_ID } from './providers/demo/demo-model.js';
import { pricedModelIds } from './pricing.js';

/**
 * What an agent's `configuration.model` can name on this server (GET /api/v1/models): the demo
 * model, the models the price table knows (built-in and MODEL_PRICING), and each provider's id
 * form. `configured` says whether the server has that provider's credentials or endpoint; a
 * model of an unconfigured provider is refused when a run starts (`model_not_configured`).
 * Nothing here is fetched from a provider: the list is what the server knows without a network.
 */
export interface ModelCatalog {
  models: { id: string; provider: string; configured: boolean }[];
  providers: { provider: string; configured: boolean; model_form: string }[];
}

export function modelCatalog(config: ModelProvidersConfig, pricing: PricingOverrides = {}): ModelCatalog {
  const providers = [
    { provider: 'demo', configured: true, model_form: DEMO_MODEL_ID },
    { provider: 'openai', configured: Boolean(config.openai.apiKey), model_form: 'openai:<model>' },
    { provider: 'anthropic', configured: Boolean(config.anthropic.apiKey), model_form: 'anthropic:<model>' },
    // Ollama has a default local endpoint: whether it runs is known only when a run calls it.
    { provider: 'ollama', configured: true, model_form: 'ollama:<model>' },
    ...Object.keys(config.openaiCompatible)
      .sort()
      .map((name) => ({
        provider: 'openai-compatible',
        configured: true,
        model_form: `openai-compatible:${name}/<model>`,
      })),
  ];
  const configured = new Map(providers.map((each) => [each.provider, each.configured]));
  const models = pricedModelIds(pricing).map((id) => {
    const provider = id === DEMO_MODEL_ID ? 'demo' : id.slice(0, id.indexOf(':'));
    return { id, provider, configured: configured.get(provider) ?? false };
  });
  return { models, providers };
}
