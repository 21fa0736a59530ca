import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import { hasScope, type Authenticator, type UserPrincipal } from '../../http/auth.js';
import type { KeysService } from '../keys/keys.service.js';
import type { StreamTokensService } from './stream-tokens.service.js';

const KEY_NO_LONGER_VALID = 'The API key that issued this stream token was revoked or has expired.';

/**
 * Stream tokens, from `?token=` on the routes whose config says `streamToken: true` (the follow
 * route only). On every other route the query parameter is not read, so it is no credential
 * there. Listed after the API-key authenticator: a request with an `x-api-key` header is decided
 * by its key, whatever its query says.
 *
 * The principal is the issuing key's, as the key is now (still valid, or 401), limited to `read`:
 * its streams count against that key's limit and end with `key_revoked` when the key is revoked,
 * like the key's own streams.
 */
export class StreamTokenAuthenticator implements Authenticator {
  constructor(
    private readonly dependencies: {
      tokens: StreamTokensService;
      keys: KeysService;
    },
  ) {}

  authenticate(request: FastifyRequest): Promise<UserPrincipal> | null {
    const config = request.routeOptions.config as { streamToken?: boolean } | undefined;
    if (config?.streamToken !== true) return null;
    const token = (request.query as Record<string, unknown> | undefined)?.token;
    if (token === undefined) return null;
    // A repeated parameter is a bad token, not an absent one (as a repeated x-api-key header is).
    if (typeof token !== 'string') throw new AppError('invalid_stream_token');
    const params = request.params as { agent_id: string; thread_id: string };
    return this.#principal({ token, agentId: params.agent_id, threadId: params.thread_id });
  }

  async #principal(input: { token: string; agentId: string; threadId: string }): Promise<UserPrincipal> {
    const claims = await this.dependencies.tokens.verify(input);
    const issuer = await this.dependencies.keys.principalOfKey(claims.keyId);
    if (issuer === null || issuer.organizationId !== claims.organizationId) {
      throw new AppError('invalid_stream_token', { message: KEY_NO_LONGER_VALID });
    }
    return { ...issuer, scopes: hasScope(issuer.scopes, 'read') ? ['read'] : [] };
  }
}
