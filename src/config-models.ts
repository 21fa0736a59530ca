import { ConfigError, readInteger, readOptional } from './config-values.js';
import type { Environment } from './config-values.js';

/** The model providers' settings (README, "Configuration"): read once by loadConfig. */
export const MODEL_DEFAULTS = {
  DEMO_MODEL_WORDS_PER_SECOND: 30,
  OLLAMA_BASE_URL: 'http://127.0.0.1:11434/v1',
} as const;

export interface ModelProvidersConfig {
  /** Pace of the offline demo model's stream; 0 for no delay. */
  readonly demoWordsPerSecond: number;
  readonly openai: { readonly apiKey: string | undefined; readonly baseUrl: string | undefined };
  readonly anthropic: { readonly apiKey: string | undefined; readonly baseUrl: string | undefined };
  /** Ollama's OpenAI-compatible endpoint. */
  readonly ollamaBaseUrl: string;
  /** Named OpenAI-compatible endpoints (vLLM, llama.cpp server, LM Studio, OpenRouter…). */
  readonly openaiCompatible: Readonly<
    Record<string, { readonly baseUrl: string; readonly apiKey: string | undefined }>
  >;
}

export function readModels(environment: Environment): ModelProvidersConfig {
  return Object.freeze({
    demoWordsPerSecond: readInteger(
      environment,
      'DEMO_MODEL_WORDS_PER_SECOND',
      MODEL_DEFAULTS.DEMO_MODEL_WORDS_PER_SECOND,
      {
        min: 0,
        max: 100_000,
      },
    ),
    openai: Object.freeze({
      apiKey: readOptional(environment, 'OPENAI_API_KEY'),
      baseUrl: readOptionalUrl(environment, 'OPENAI_BASE_URL'),
    }),
    anthropic: Object.freeze({
      apiKey: readOptional(environment, 'ANTHROPIC_API_KEY'),
      baseUrl: readOptionalUrl(environment, 'ANTHROPIC_BASE_URL'),
    }),
    ollamaBaseUrl: readOptionalUrl(environment, 'OLLAMA_BASE_URL') ?? MODEL_DEFAULTS.OLLAMA_BASE_URL,
    openaiCompatible: readOpenAiCompatible(environment),
  });
}

function readOptionalUrl(environment: Environment, name: string): string | undefined {
  const value = readOptional(environment, name);
  if (value === undefined) return undefined;
  if (!/^https?:\/\/\S+$/.test(value)) throw new ConfigError(name, 'must be an http:// or https:// URL');
  return withoutTrailingSlashes(value);
}

/** The URL without the slashes it ends with; a loop, as `/\/+$/` would be retried at every slash. */
function withoutTrailingSlashes(url: string): string {
  let end = url.length;
  while (end > 0 && url[end - 1] === '/') end -= 1;
  return url.slice(0, end);
}

/**
 * `OPENAI_COMPATIBLE_ENDPOINTS=vllm=http://10.0.0.5:8000/v1,lmstudio=http://127.0.0.1:1234/v1`;
 * each endpoint's key, if it needs one, in `OPENAI_COMPATIBLE_<NAME>_API_KEY`.
 */
function readOpenAiCompatible(environment: Environment): ModelProvidersConfig['openaiCompatible'] {
  const raw = readOptional(environment, 'OPENAI_COMPATIBLE_ENDPOINTS');
  const endpoints: Record<string, { baseUrl: string; apiKey: string | undefined }> = {};
  if (raw === undefined) return Object.freeze(endpoints);
  for (const entry of raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const match = /^([a-z0-9][\w-]{0,63})=(https?:\/\/\S+)$/i.exec(entry);
    if (!match)
      throw new ConfigError('OPENAI_COMPATIBLE_ENDPOINTS', `has a bad entry "${entry}" (expected name=http://host/v1)`);
    const name = match[1]!.toLowerCase();
    const keyVariable = `OPENAI_COMPATIBLE_${name.toUpperCase().replaceAll('-', '_')}_API_KEY`;
    endpoints[name] = Object.freeze({
      baseUrl: withoutTrailingSlashes(match[2]!),
      apiKey: readOptional(environment, keyVariable),
    });
  }
  return Object.freeze(endpoints);
}
