import { OAuthError, ServerError, TemporarilyUnavailableError } from '@modelcontextprotocol/sdk/server/auth/errors.js';

/** Longest part of an authorization server's error text kept in a reason (it is shown to users). */
const MAX_DESCRIPTION = 200;

/**
 * Whether the authorization server answered with a refusal (invalid_grant, invalid_client,
 * invalid_scope, access_denied…) — only a new sign-in helps — rather than failing (5xx,
 * temporarily_unavailable, unreachable), where trying again later may.
 */
export function isAuthorizationFailure(error: unknown): error is OAuthError {
  return (
    error instanceof OAuthError && !(error instanceof ServerError) && !(error instanceof TemporarilyUnavailableError)
  );
}

/** `invalid_grant: <description>`, the description bounded. */
export function describeOAuthFailure(error: OAuthError): string {
  return describeOAuthError(error.errorCode, error.message);
}

export function describeOAuthError(code: string, description: string | undefined): string {
  const text = (description ?? '').replace(/\s+/g, ' ').trim();
  if (text === '' || text === code) return code.slice(0, 64);
  const bounded = text.length > MAX_DESCRIPTION ? `${text.slice(0, MAX_DESCRIPTION)}…` : text;
  return `${code.slice(0, 64)}: ${bounded}`;
}
