import { AppError } from '../../errors.js';
import type { Clock, IdGenerator } from '../../ids.js';
import type { ApiKey, ApiKeyCredential, Scope } from '../../domain/models.js';
import type { UserPrincipal } from '../../http/auth.js';
import type { IdempotencyClaim, Store } from '../../storage/store.js';
import { apiKeyMatches, generateApiKey, hashApiKey, parseApiKeyId } from './api-key-secret.js';

export interface CreatedApiKey {
  api_key: ApiKey;
  /** The whole key. Returned once, at creation; only its hash is stored. */
  key: string;
}

/** A stored credential with its hash decoded once, for the comparison on every request. */
type VerifiableCredential = ApiKeyCredential & { digest: Buffer };

interface CachedCredential {
  credential: VerifiableCredential | null;
  cachedUntil: number;
}

export class KeysService {
  readonly #cache = new Map<string, CachedCredential>();
  readonly #cacheLimit = 10_000;

  constructor(
    private readonly dependencies: {
      store: Store;
      clock: Clock;
      newId: IdGenerator;
      /** How long a looked-up key is trusted before it is read again (0 disables the cache). */
      cacheTtlMs: number;
      /** Called once a key is revoked through this process: its open streams end at once. */
      onRevoked?: ((keyId: string) => void) | undefined;
    },
  ) {}

  /**
   * The synchronous path of `authenticate`: a principal when the key was verified within the
   * cache lifetime, a 401 when it is malformed or no longer valid, undefined when the database
   * must be asked.
   */
  authenticateFromCache(presented: string): UserPrincipal | undefined {
    const keyId = parseApiKeyId(presented);
    if (keyId === null) throw new AppError('invalid_api_key');
    const nowMs = this.dependencies.clock.now().getTime();
    const cached = this.#cache.get(keyId);
    if (!cached || cached.cachedUntil <= nowMs) return undefined;
    return this.#verify(presented, cached.credential, nowMs);
  }

  /**
   * Turns a presented key into a principal, or throws 401. Unknown, malformed, revoked and
   * expired keys all get the same answer.
   */
  async authenticate(presented: string): Promise<UserPrincipal> {
    const keyId = parseApiKeyId(presented);
    if (keyId === null) throw new AppError('invalid_api_key');
    const credential = await this.#findCredential(keyId);
    return this.#verify(presented, credential, this.dependencies.clock.now().getTime());
  }

  /**
   * The principal of a key found by its id rather than its secret, for a credential the key
   * issued (a stream token names its key): null when the key is unknown, revoked or expired.
   * Read through the same cache as `authenticate`, so it is as fresh as a request's key.
   */
  async principalOfKey(keyId: string): Promise<UserPrincipal | null> {
    const credential = await this.#findCredential(keyId);
    const nowMs = this.dependencies.clock.now().getTime();
    return credential !== null && isLive(credential, nowMs) ? principalOf(credential) : null;
  }

  #verify(presented: string, credential: VerifiableCredential | null, nowMs: number): UserPrincipal {
    if (credential === null || !apiKeyMatches(presented, credential.digest) || !isLive(credential, nowMs)) {
      throw new AppError('invalid_api_key');
    }
    return principalOf(credential);
  }

  async #findCredential(keyId: string): Promise<VerifiableCredential | null> {
    const { cacheTtlMs, clock, store } = this.dependencies;
    const nowMs = clock.now().getTime();
    const cached = this.#cache.get(keyId);
    if (cached && cached.cachedUntil > nowMs) return cached.credential;
    const stored = await store.apiKeys.findCredential(keyId);
    const credential = stored && { ...stored, digest: Buffer.from(stored.key_hash, 'hex') };
    // Only existing keys are cached: random ids from guessing clients must not fill the map.
    if (cacheTtlMs > 0 && credential !== null) {
      if (this.#cache.size >= this.#cacheLimit) this.#cache.clear();
      this.#cache.set(keyId, { credential, cachedUntil: nowMs + cacheTtlMs });
    }
    return credential;
  }

  /**
   * Creates a key. The organisation and user are found by name or created. Used by the CLI (any
   * organisation) and by the admin API (the caller's organisation only, by id).
   */
  async create(input: {
    organization: { name: string } | { id: string };
    userName: string;
    name?: string | undefined;
    scopes: readonly Scope[];
    expiresAt?: string | null | undefined;
    idempotency?: IdempotencyClaim | undefined;
  }): Promise<CreatedApiKey> {
    const { store, clock, newId } = this.dependencies;
    const now = clock.now().toISOString();
    if (input.expiresAt && input.expiresAt <= now) {
      throw new AppError('validation_error', {
        issues: [{ loc: ['body', 'expires_at'], msg: 'Expiry must be in the future', type: 'value_error' }],
      });
    }
    const id = newId();
    const key = generateApiKey(id);
    return store.write(
      async (writers) => {
        const organizationId =
          'id' in input.organization
            ? input.organization.id
            : (await writers.organizations.ensure({ id: newId(), name: input.organization.name, now })).id;
        const user = await writers.organizations.ensureUser({
          id: newId(),
          organizationId,
          name: input.userName,
          now,
        });
        const apiKey = await writers.apiKeys.insert({
          id,
          organization_id: organizationId,
          user_id: user.id,
          name: input.name ?? `${input.userName} key`,
          key_hash: hashApiKey(key),
          last_four: key.slice(-4),
          scopes: normaliseScopes(input.scopes),
          created_at: now,
          expires_at: input.expiresAt ?? null,
        });
        return { api_key: apiKey, key };
      },
      // A replay cannot show the secret again: it is not stored anywhere.
      { idempotency: input.idempotency, replayBody: (created) => ({ ...created, key: null }) },
    );
  }

  async require(input: { organizationId: string; id: string }): Promise<ApiKey> {
    const apiKey = await this.dependencies.store.apiKeys.get(input);
    if (!apiKey) throw new AppError('api_key_not_found');
    return apiKey;
  }

  /** The name of the user a principal acts as. */
  async describeUser(principal: UserPrincipal): Promise<string> {
    const user = await this.dependencies.store.organizations.getUser({
      organizationId: principal.organizationId,
      id: principal.userId,
    });
    if (!user) throw new AppError('invalid_api_key');
    return user.name;
  }

  async list(organizationId: string): Promise<ApiKey[]> {
    return this.dependencies.store.apiKeys.list({ organizationId });
  }

  async listAll(): ReturnType<Store['apiKeys']['listAll']> {
    return this.dependencies.store.apiKeys.listAll();
  }

  /** Revokes a key now. `organizationId` null is the operator's CLI, which may revoke any key. */
  async revoke(input: { organizationId: string | null; id: string }): Promise<ApiKey> {
    const now = this.dependencies.clock.now().toISOString();
    const apiKey = await this.dependencies.store.write((writers) =>
      writers.apiKeys.revoke({ organizationId: input.organizationId, id: input.id, now }),
    );
    if (apiKey === null) throw new AppError('api_key_not_found');
    this.#cache.delete(input.id);
    this.dependencies.onRevoked?.(input.id);
    return apiKey;
  }

  /**
   * Of these keys, the ones no longer valid now (revoked, expired or gone), read from the
   * database — not from the cache, which may be `cacheTtlMs` old. Cached keys among them are
   * refreshed with what was read.
   */
  async invalidKeys(keyIds: readonly string[]): Promise<string[]> {
    const { store, clock, cacheTtlMs } = this.dependencies;
    const found = new Map((await store.apiKeys.findCredentials(keyIds)).map((stored) => [stored.id, stored]));
    const nowMs = clock.now().getTime();
    return keyIds.filter((keyId) => {
      const stored = found.get(keyId);
      if (!stored) this.#cache.delete(keyId);
      else if (this.#cache.has(keyId)) {
        const credential = { ...stored, digest: Buffer.from(stored.key_hash, 'hex') };
        this.#cache.set(keyId, { credential, cachedUntil: nowMs + cacheTtlMs });
      }
      return stored === undefined || !isLive(stored, nowMs);
    });
  }

  /**
   * On an empty database: creates the `default` organisation, its `admin` user and an admin key,
   * and returns the key so the caller can print it once. Returns null when any organisation exists.
   */
  async bootstrap(): Promise<CreatedApiKey | null> {
    if ((await this.dependencies.store.organizations.count()) > 0) return null;
    return this.create({
      organization: { name: 'default' },
      userName: 'admin',
      name: 'bootstrap admin key',
      scopes: ['read', 'write', 'admin'],
    });
  }
}

function principalOf(credential: ApiKeyCredential): UserPrincipal {
  return {
    kind: 'user',
    organizationId: credential.organization_id,
    userId: credential.user_id,
    keyId: credential.id,
    scopes: credential.scopes,
  };
}

/** Neither revoked nor past its expiry. */
function isLive(credential: ApiKeyCredential, nowMs: number): boolean {
  return (
    credential.revoked_at === null && (credential.expires_at === null || Date.parse(credential.expires_at) > nowMs)
  );
}

function normaliseScopes(scopes: readonly Scope[]): Scope[] {
  return (['read', 'write', 'admin'] as const).filter((scope) => scopes.includes(scope));
}
