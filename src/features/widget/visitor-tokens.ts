import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { AppError } from '../../errors.js';
import type { Clock, IdGenerator } from '../../ids.js';
import type { ServerSecret } from '../../security/server-secret.js';

/** The HKDF purpose of the signing key; a new way of signing means a new purpose (v2), not a changed key. */
export const VISITOR_TOKEN_KEY_PURPOSE = 'parley widget visitor tokens v1';
const ISSUER = 'parley';
/** Only this: a stream token (signed with another key anyway) is refused here, and this one there. */
const AUDIENCE = 'parley:widget-visitor';
/** The one algorithm accepted: `alg: none`, RS256 with a forged key and the like are refused by jose. */
const ALGORITHM = 'HS256';

/** What a verified visitor token says. */
export interface VisitorClaims {
  /** `sub`: the server-minted id of the anonymous user, the `anon_user_id` of their threads. */
  anonymousUserId: string;
  organizationId: string;
  agentId: string;
  widgetKeyId: string;
  /** The anonymous user's token generation when it was minted; an older one is refused. */
  generation: number;
  /** The page origin it was minted for, the only one it is accepted from. */
  origin: string;
  expiresAt: Date;
}

/**
 * Visitor tokens: JWTs (HS256, `jose`) with a key derived from the server secret for this one
 * purpose. Stateless to verify; the authenticator adds what needs the database (the generation,
 * the widget key's revocation).
 */
export class VisitorTokens {
  readonly #key: Uint8Array;

  constructor(
    private readonly dependencies: { secret: ServerSecret; clock: Clock; newId: IdGenerator; ttlSeconds: number },
  ) {
    this.#key = dependencies.secret.deriveKey(VISITOR_TOKEN_KEY_PURPOSE);
  }

  async mint(claims: Omit<VisitorClaims, 'expiresAt'>): Promise<{ token: string; expiresAt: Date }> {
    const issuedAt = Math.floor(this.dependencies.clock.now().getTime() / 1000);
    const expiresAt = issuedAt + this.dependencies.ttlSeconds;
    const token = await new SignJWT({
      organization_id: claims.organizationId,
      agent_id: claims.agentId,
      widget_key_id: claims.widgetKeyId,
      generation: claims.generation,
      origin: claims.origin,
    })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(claims.anonymousUserId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .setJti(this.dependencies.newId())
      .sign(this.#key);
    return { token, expiresAt: new Date(expiresAt * 1000) };
  }

  /**
   * The claims of a genuine token, or 401: `widget_token_expired` for a genuine token past its
   * `exp` (jose checks the signature before any claim), `invalid_widget_token` for anything else.
   * `expiredGraceSeconds` accepts a token that far past its expiry (renewal only).
   */
  async verify(token: string, options: { expiredGraceSeconds?: number } = {}): Promise<VisitorClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#key, {
        algorithms: [ALGORITHM],
        typ: 'JWT',
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['sub', 'iat', 'exp', 'jti'],
        currentDate: this.dependencies.clock.now(),
        clockTolerance: options.expiredGraceSeconds ?? 0,
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired && claimsOf(error.payload) !== null) {
        throw new AppError('widget_token_expired');
      }
      if (error instanceof errors.JOSEError) throw new AppError('invalid_widget_token');
      throw error;
    }
    const claims = claimsOf(payload);
    if (claims === null) throw new AppError('invalid_widget_token');
    return claims;
  }
}

function claimsOf(payload: JWTPayload): VisitorClaims | null {
  const { sub, exp, organization_id, agent_id, widget_key_id, generation, origin } = payload;
  if (typeof sub !== 'string' || typeof exp !== 'number') return null;
  if (typeof organization_id !== 'string' || typeof agent_id !== 'string') return null;
  if (typeof widget_key_id !== 'string' || typeof origin !== 'string') return null;
  if (typeof generation !== 'number' || !Number.isSafeInteger(generation) || generation < 0) return null;
  return {
    anonymousUserId: sub,
    organizationId: organization_id,
    agentId: agent_id,
    widgetKeyId: widget_key_id,
    generation,
    origin,
    expiresAt: new Date(exp * 1000),
  };
}
