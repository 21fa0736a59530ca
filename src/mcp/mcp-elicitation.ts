import type { ElicitRequest, ElicitResult } from '@modelcontextprotocol/sdk/types.js';

/**
 * How Parley answers a server's `elicitation/create` (docs/adr/0017-mcp-servers.md): nobody is
 * there to fill in a form while a tool runs, so a form is accepted only when the requested
 * schema gives a default for every required field — with every default it gives — and declined
 * otherwise. URL-mode elicitations (a page for a person to visit) are declined.
 */
export function answerElicitation(params: ElicitRequest['params']): Promise<ElicitResult> {
  if (params.mode === 'url' || !('requestedSchema' in params)) return Promise.resolve({ action: 'decline' });
  const schema = params.requestedSchema as { properties?: Record<string, unknown>; required?: unknown };
  const properties = schema.properties ?? {};
  const content: Record<string, string | number | boolean | string[]> = {};
  for (const [name, property] of Object.entries(properties)) {
    if (typeof property === 'object' && property !== null && 'default' in property) {
      content[name] = (property as { default: string | number | boolean | string[] }).default;
    }
  }
  const required = Array.isArray(schema.required) ? (schema.required as unknown[]) : [];
  const complete = required.every((name) => typeof name === 'string' && name in content);
  return Promise.resolve(complete ? { action: 'accept', content } : { action: 'decline' });
}
