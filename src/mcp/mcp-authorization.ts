import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
/** What the authorization layer needs to know of a server; auth_config with secrets opened. */
export interface McpServerRef {
  organizationId: string;
  serverId: string;
  url: string;
  authConfig: Record<string, unknown> | null;
}
/** The server needs a person to sign in (again); `reason` is shown as the server's status_reason. */
export class McpAuthorizationRequired extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}
export interface McpAuthorization {
  /** Wraps the guarded fetch for one server's MCP requests: adds its bearer token when it has one, refreshes (single-flight across processes) before expiry and once on a 401, and throws McpAuthorizationRequired when only sign-in can help. Without stored credentials it passes requests through untouched. */
  fetchFor(server: McpServerRef, fetch: FetchLike): FetchLike;
  /** Connect calls this when the server answered 401 without usable credentials: discovery, client registration, PKCE; stores the pending state; returns where to send the user. */
  begin(server: McpServerRef, challenge: { wwwAuthenticate: string | null }): Promise<{ authorizationUrl: string }>;
  /** Forgets (and revokes where the authorization server allows) the server's tokens and client. */
  revoke(server: McpServerRef): Promise<void>;
}
