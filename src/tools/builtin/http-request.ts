import type { OutboundRequester } from '../external/external-call.js';
import type { Tool } from '../tool.js';

/** Of an answer, this much is read when the configuration says nothing (`max_response_bytes`). */
const DEFAULT_RESPONSE_BYTES = 256 * 1024;

/**
 * GET or POST to a public host (or one `OUTBOUND_ALLOW` names), through the one guarded outbound
 * client: a private, loopback or metadata address is an `outbound_blocked` error result, never a
 * connection. The answer is its status, content type and body text (up to `max_response_bytes`).
 */
export function httpRequestTool(
  configuration: { allowed_methods?: string[]; timeout_ms?: number; max_response_bytes?: number },
  outbound: OutboundRequester,
): Tool {
  const methods = configuration.allowed_methods ?? ['GET', 'POST'];
  const maxResponseBytes = configuration.max_response_bytes ?? DEFAULT_RESPONSE_BYTES;
  return {
    name: 'http_request',
    description: `Makes an HTTP ${methods.join(' or ')} request to a public URL and returns the status and body.`,
    inputSchema: HTTP_REQUEST_INPUTS.get(methods.join(',')) ?? httpRequestInput(methods),
    ...(configuration.timeout_ms === undefined ? {} : { timeoutMs: configuration.timeout_ms }),
    async execute(input, context) {
      const response = await outbound.request({
        method: String(input.method),
        url: String(input.url),
        headers: (input.headers ?? {}) as Record<string, string>,
        ...(typeof input.body === 'string' ? { body: input.body } : {}),
        maxResponseBytes,
        signal: context.signal,
        ...(configuration.timeout_ms === undefined ? {} : { timeoutMs: configuration.timeout_ms }),
      });
      return {
        status: response.status,
        content_type: response.headers['content-type'] ?? null,
        body: response.body.toString('utf8'),
      };
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
