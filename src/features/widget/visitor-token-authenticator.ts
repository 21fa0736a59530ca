import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import type { AnonymousPrincipal, Authenticator } from '../../http/auth.js';
import type { VisitorDirectory } from './visitor-directory.js';
import type { VisitorTokens } from './visitor-tokens.js';

const OTHER_ORIGIN = 'The visitor token was minted for another origin than this page’s.';
const REVOKED = 'The widget key of this visitor session was revoked.';
const SUPERSEDED = 'The visitor token was replaced by a renewal: use the latest token.';
/**
 * The auth scheme is case-insensitive (RFC 9110 §11.1); the token has the three parts of a JWS
 * (the last may be empty: an unsigned `alg: none` token is one, and jose refuses it).
 */
const BEARER_SCHEME = /^bearer /i;
const TOKEN = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/**
 * Widget visitors' tokens, from `Authorization: Bearer` only (never a query string or a cookie).
 * Listed after the API-key and stream-token authenticators: a request with `x-api-key` is decided
 * by its key. A token is accepted when it is genuine and unexpired (visitor-tokens.ts), the
 * request's `Origin` — when it has one — is the origin it was minted for, its widget key is not
 * revoked and its generation is the anonymous user's current one (an older token was renewed).
 *
 * The principal may write (post messages) but is `anonymous`: only routes with `anonymous: true`
 * admit it, and only for the token's agent (src/http/auth.ts).
 */
export class VisitorTokenAuthenticator implements Authenticator {
  constructor(private readonly dependencies: { tokens: VisitorTokens; directory: VisitorDirectory }) {}

  authenticate(request: FastifyRequest): Promise<AnonymousPrincipal> | null {
    const header = request.headers.authorization;
    if (header === undefined) return null;
    // Another scheme, or a bearer value that is no JWS at all (an API key in the wrong header), is
    // not a credential of this kind: the answer is the one for no credential (invalid_api_key).
    if (typeof header !== 'string' || !BEARER_SCHEME.test(header)) return null;
    const token = header.slice('bearer '.length).trim();
    if (!TOKEN.test(token)) return null;
    return this.#principal(token, request.headers.origin);
  }

  async #principal(token: string, origin: string | undefined): Promise<AnonymousPrincipal> {
    const claims = await this.dependencies.tokens.verify(token);
    // A browser always sends Origin on a cross-origin request; a client that sends none is not a
    // page of another origin (and could claim any origin anyway): docs/widget.md.
    if (origin !== undefined && origin !== claims.origin) {
      throw new AppError('invalid_widget_token', { message: OTHER_ORIGIN });
    }
    const user = await this.dependencies.directory.find({
      organizationId: claims.organizationId,
      id: claims.anonymousUserId,
    });
    if (user === null || user.widget_key_id !== claims.widgetKeyId || user.agent_id !== claims.agentId) {
      throw new AppError('invalid_widget_token');
    }
    if (user.widget_key_revoked_at !== null) throw new AppError('invalid_widget_token', { message: REVOKED });
    if (user.token_generation !== claims.generation) {
      throw new AppError('invalid_widget_token', { message: SUPERSEDED });
    }
    return {
      kind: 'anonymous',
      organizationId: claims.organizationId,
      anonymousUserId: claims.anonymousUserId,
      scopes: ['write'],
      agentId: claims.agentId,
      widgetUserId: user.widget_user_id,
      widgetKeyId: claims.widgetKeyId,
      origin: claims.origin,
    };
  }
}
