import type { McpServerState } from '../../domain/mcp-servers.js';
import { AppError } from '../../errors.js';
import type { McpAuthorization, McpServerRef } from '../../mcp/mcp-authorization.js';
import { classifyFailure } from './mcp-failures.js';

/** The contract's MCPConnectResponse. */
export interface McpConnectResult {
  status: 'success' | 'authorization_required';
  message: string;
  authorization_url: string | null;
}

/** One server's connect: its authorization layer and how its state is stored. */
export interface ConnectContext {
  authorization: McpAuthorization;
  ref: McpServerRef;
  setState(state: McpServerState): Promise<void>;
}

/** Starts a sign-in (discovery, client, PKCE, a stored state); the server waits for it. */
export async function startSignIn(context: ConnectContext, wwwAuthenticate: string | null): Promise<McpConnectResult> {
  const { authorizationUrl } = await context.authorization.begin(context.ref, { wwwAuthenticate });
  await context.setState({
    status: 'needs_authorization',
    status_reason: 'Sign-in required: open the authorization_url',
  });
  return {
    status: 'authorization_required',
    message: 'The server requires sign-in: sign in at authorization_url',
    authorization_url: authorizationUrl,
  };
}

/**
 * A connect that failed: a server that wants sign-in gets it started (once: a sign-in that
 * cannot start is stored as the reason, with no URL); anything else is stored and answered 502.
 */
export async function connectFailed(
  context: ConnectContext,
  error: unknown,
  signInTried = false,
): Promise<McpConnectResult> {
  const failure = classifyFailure(error);
  const wantsSignIn = failure.kind === 'unauthorized' || failure.kind === 'needs_authorization';
  if (wantsSignIn && !signInTried) {
    try {
      return await startSignIn(context, failure.kind === 'unauthorized' ? failure.wwwAuthenticate : null);
    } catch (beginError) {
      return connectFailed(context, beginError, true);
    }
  }
  if (wantsSignIn) {
    await context.setState({ status: 'needs_authorization', status_reason: failure.reason });
    return { status: 'authorization_required', message: failure.reason, authorization_url: null };
  }
  await context.setState({ status: failure.kind, status_reason: failure.reason });
  throw new AppError('mcp_server_unavailable', {
    message: `The MCP server could not be connected: ${failure.reason}.`,
  });
}

/**
 * The state a failed call or catalogue read leaves when it wanted sign-in (a 401 nobody could
 * answer, a refresh that failed, a scope the grant lacks); null for any other failure, which is
 * the caller's to report.
 */
export function signInNeededState(error: unknown): McpServerState | null {
  const failure = classifyFailure(error);
  if (failure.kind !== 'unauthorized' && failure.kind !== 'needs_authorization') return null;
  return { status: 'needs_authorization', status_reason: failure.reason };
}
