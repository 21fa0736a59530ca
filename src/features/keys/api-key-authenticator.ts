import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import type { Authenticator, UserPrincipal } from '../../http/auth.js';
import type { KeysService } from './keys.service.js';

/**
 * API keys, from the `x-api-key` header only: a key in the query string or any other header is
 * never read (it would end up in logs and browser history).
 */
export class ApiKeyAuthenticator implements Authenticator {
  constructor(private readonly keys: KeysService) {}

  authenticate(request: Pick<FastifyRequest, 'headers'>): UserPrincipal | Promise<UserPrincipal> | null {
    const header = request.headers['x-api-key'];
    if (header === undefined) return null;
    // A repeated header is a bad key, not an absent one: no other authenticator gets to decide.
    if (typeof header !== 'string') throw new AppError('invalid_api_key');
    return this.keys.authenticateFromCache(header) ?? this.keys.authenticate(header);
  }
}
