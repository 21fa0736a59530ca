import type { Tool } from '../tool.js';

/**
 * GET or POST to a public host (or one `OUTBOUND_ALLOW` names). The calls go through the one
 * guarded outbound client; until that client is wired in, every call is a clear error result.
 */
export function httpRequestTool(configuration: { allowed_methods?: string[]; timeout_ms?: number }): Tool {
  const methods = configuration.allowed_methods ?? ['GET', 'POST'];
  return {
    name: 'http_request',
    description: `Makes an HTTP ${methods.join(' or ')} request to a public URL and returns the status and body.`,
    inputSchema: HTTP_REQUEST_INPUTS.get(methods.join(',')) ?? httpRequestInput(methods),
    ...(configuration.timeout_ms === undefined ? {} : { timeoutMs: configuration.timeout_ms }),
    async execute() {
      throw new Error('http_request is not available yet: the guarded outbound client is not wired in');
    },
  };
}

function httpRequestInput(methods: readonly string[]) {
  return {
    type: 'object',
    properties: {
      method: { type: 'string', enum: [...methods] },
      url: { type: 'string', minLength: 1, maxLength: 2048 },
      headers: { type: 'object', additionalProperties: { type: 'string', maxLength: 4096 }, maxProperties: 32 },
      body: { type: 'string', maxLength: 65536 },
    },
    required: ['method', 'url'],
    additionalProperties: false,
  };
}

/** One schema object per method set, so the runner's compiled validators are reused between runs. */
const HTTP_REQUEST_INPUTS = new Map(
  [['GET', 'POST'], ['GET'], ['POST'], ['POST', 'GET']].map((methods) => [
    methods.join(','),
    httpRequestInput(methods),
  ]),
);
