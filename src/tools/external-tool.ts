import type { JsonObject } from '../domain/models.js';
import type { Tool } from './tool.js';

/**
 * An operator-described HTTP endpoint (`tool_type: external_tool`). `configuration` is as stored —
 * secrets still sealed — and `openSecrets` gives it with them in plain text, called only when a
 * call is made, so a resolved tool holds no plaintext secret. The call itself goes through the
 * guarded outbound client; until that client is wired in, every call is a clear error result.
 */
export function externalTool(input: {
  name: string;
  configuration: JsonObject;
  inputSchema: JsonObject;
  openSecrets: () => JsonObject;
}): Tool {
  const { configuration } = input;
  return {
    name: input.name,
    description: String(configuration.description),
    inputSchema: input.inputSchema,
    ...(typeof configuration.timeout_ms === 'number' ? { timeoutMs: configuration.timeout_ms } : {}),
    ...(configuration.requires_approval === true ? { requiresApproval: true } : {}),
    async execute() {
      input.openSecrets();
      throw new Error(`${input.name} is not available yet: external tools need the guarded outbound client`);
    },
  };
}
