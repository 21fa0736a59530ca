import type { JsonObject } from '../domain/models.js';
import {
  callExternalTool,
  type ClientCredentialsTokens,
  type ExternalToolAuth,
  type OutboundRequester,
} from './external/external-call.js';
import type { ExternalRequestTemplate } from './external/external-request.js';
import type { Tool } from './tool.js';

/** Of an answer, this much is read (the stored result is capped again by TOOL_RESULT_MAX_BYTES). */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * An operator-described HTTP endpoint (`tool_type: external_tool`). `configuration` is as stored —
 * secrets still sealed — and `openSecrets` gives it with them in plain text, called only when a
 * call is made, so a resolved tool holds no plaintext secret. The call goes through the guarded
 * outbound client (external/external-call.ts); what it answers is `{status, body}`.
 */
export function externalTool(input: {
  name: string;
  configuration: JsonObject;
  inputSchema: JsonObject;
  openSecrets: () => JsonObject;
  outbound: OutboundRequester;
  tokens: ClientCredentialsTokens;
}): Tool {
  const { configuration } = input;
  return {
    name: input.name,
    kind: 'external_tool',
    description: String(configuration.description),
    inputSchema: input.inputSchema,
    ...(typeof configuration.timeout_ms === 'number' ? { timeoutMs: configuration.timeout_ms } : {}),
    ...(configuration.requires_approval === true ? { requiresApproval: true } : {}),
    async execute(arguments_, context) {
      const opened = input.openSecrets();
      return callExternalTool({
        requester: input.outbound,
        template: opened as unknown as ExternalRequestTemplate,
        auth: opened.auth as ExternalToolAuth | undefined,
        input: arguments_,
        signal: context.signal,
        timeoutMs: typeof configuration.timeout_ms === 'number' ? configuration.timeout_ms : undefined,
        maxResponseBytes: MAX_RESPONSE_BYTES,
        tokens: input.tokens,
      });
    },
  };
}
