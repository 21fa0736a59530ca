import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { AppError } from '../../errors.js';
import { sameId, type Clock, type IdGenerator } from '../../ids.js';
import type { UserPrincipal } from '../../http/auth.js';
import type { ServerSecret } from '../../security/server-secret.js';
import type { Store } from '../../storage/store.js';

/** The HKDF purpose of the signing key; a new way of signing means a new purpose (v2), not a changed key. */
export const STREAM_TOKEN_KEY_PURPOSE = 'parley stream tokens v1';
const ISSUER = 'parley';
/** Only this: a token made for another use of the same key (a widget token) is refused here. */
const AUDIENCE = 'parley:thread-stream';

export interface IssuedStreamToken {
  token: string;
  expires_at: string;
  /** Relative to the server's base URL: the follow route of the thread, with the token. */
  stream_url: string;
}

/** What a verified token says: who issued it, and the one thread it may follow. */
export interface StreamTokenClaims {
  keyId: string;
  organizationId: string;
  agentId: string;
  threadId: string;
}

interface ThreadScope {
  agentId: string;
  threadId: string;
}

const EXPIRED = 'The stream token has expired: request a new one (POST …/stream-token) and reconnect.';

/**
 * Stream tokens: JWTs (HS256, `jose`) that let a client without headers — a browser's native
 * EventSource — follow one thread for a few minutes, in place of the API key that issued them.
 * Invariants: a token names its issuing key (`sub`), organisation, agent and thread, and is
 * accepted for that thread's follow route only; the key it names must still be valid when the
 * stream opens (checked by the authenticator). Nothing about a token is stored: it is valid
 * until `exp` on every process that has the same `PARLEY_SECRET_KEY`, and cannot be withdrawn
 * alone — revoking its key withdraws it. `jti` is unique per token, for audit; tokens are not
 * single-use (EventSource reconnects with the same URL).
 */
export class StreamTokensService {
  readonly #key: Uint8Array;

  constructor(
    private readonly dependencies: {
      store: Store;
      clock: Clock;
      newId: IdGenerator;
      secret: ServerSecret;
      ttlSeconds: number;
    },
  ) {
    this.#key = dependencies.secret.deriveKey(STREAM_TOKEN_KEY_PURPOSE);
  }

  /** A token for the caller's own thread; 404 `thread_not_found` for any other. */
  async issue(input: ThreadScope & { principal: UserPrincipal }): Promise<IssuedStreamToken> {
    const { store, clock, newId, ttlSeconds } = this.dependencies;
    const { principal, agentId, threadId } = input;
    const thread = await store.threads.get({ organizationId: principal.organizationId, agentId, id: threadId });
    if (!thread) throw new AppError('thread_not_found');
    const issuedAt = Math.floor(clock.now().getTime() / 1000);
    const expiresAt = issuedAt + ttlSeconds;
    const token = await new SignJWT({
      organization_id: principal.organizationId,
      agent_id: agentId,
      thread_id: threadId,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(principal.keyId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .setJti(newId())
      .sign(this.#key);
    return {
      token,
      expires_at: new Date(expiresAt * 1000).toISOString(),
      stream_url: `/api/v1/chat/${agentId}/threads/${threadId}/stream?token=${encodeURIComponent(token)}`,
    };
  }

  /**
   * The claims of a token valid now for this thread, or 401 `invalid_stream_token`: "expired" for
   * a token that was made for this thread and has expired, one answer for every other fault
   * (malformed, signed with another key, another audience, another thread), so a token tells its
   * holder nothing about other threads.
   */
  async verify(input: ThreadScope & { token: string }): Promise<StreamTokenClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(input.token, this.#key, {
        algorithms: ['HS256'],
        typ: 'JWT',
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['sub', 'iat', 'exp', 'jti'],
        currentDate: this.dependencies.clock.now(),
      }));
    } catch (error) {
      // jose checks the signature before any claim: an expired token's claims are genuine.
      if (error instanceof errors.JWTExpired && claimsFor(error.payload, input) !== null) {
        throw new AppError('invalid_stream_token', { message: EXPIRED });
      }
      if (error instanceof errors.JOSEError) throw new AppError('invalid_stream_token');
      throw error;
    }
    const claims = claimsFor(payload, input);
    if (claims === null) throw new AppError('invalid_stream_token');
    return claims;
  }
}

/** The claims when the payload is a stream token for this thread; null otherwise. */
function claimsFor(payload: JWTPayload, scope: ThreadScope): StreamTokenClaims | null {
  const { sub, organization_id: organizationId, agent_id: agentId, thread_id: threadId } = payload;
  if (typeof sub !== 'string' || typeof organizationId !== 'string') return null;
  if (typeof agentId !== 'string' || typeof threadId !== 'string') return null;
  // The path's ids are not folded to lower case yet: authentication runs before the hooks that do.
  if (!sameId(agentId, scope.agentId) || !sameId(threadId, scope.threadId)) return null;
  return { keyId: sub, organizationId, agentId, threadId };
}
