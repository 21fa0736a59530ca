import type { JsonObject } from '../domain/models.js';

/**
 * A tool is schema-first: a name, a description the model reads, a JSON Schema for its input,
 * and `execute`, which gets the validated input and a context with an AbortSignal that fires on
 * timeout or cancellation. A tool reports failure by throwing; the runner turns that into an
 * error result for the model.
 */
export interface ToolContext {
  signal: AbortSignal;
  now(): Date;
}

/** Where a tool comes from, as `agent-tools` types them; metrics and traces label calls with it. */
export type ToolKind = 'built_in' | 'external_tool' | 'mcp_server';

export interface Tool {
  readonly name: string;
  /** `built_in` when absent (the built-ins and tests' tools set none). */
  readonly kind?: ToolKind;
  readonly description: string;
  readonly inputSchema: JsonObject;
  /** Per-call deadline; the runner's default applies when absent. */
  readonly timeoutMs?: number;
  /**
   * A person must approve each call before it runs: the run waits (stored, in any process) until
   * the call is approved or rejected through the API, or the request expires
   * (docs/adr/0015-tool-approval.md).
   */
  readonly requiresApproval?: boolean;
  /**
   * The tool's own server checks the arguments (an MCP tool): the runner does not compile the
   * schema, which may use keywords it would refuse (`pattern`, another dialect) —
   * docs/adr/0017-mcp-servers.md.
   */
  readonly serverValidatesInput?: boolean;
  /**
   * Its results are knowledge passages (`{results: [{file_id, chunk_id, title, page, text, url?}]}`)
   * that the reply cites (domain/citations.ts). Only the built-in `knowledge_base_search` sets
   * it: a flag of the tool, not its name, so another tool of that name cannot forge citations.
   */
  readonly citesSources?: boolean;
  execute(input: JsonObject, context: ToolContext): Promise<unknown>;
}
