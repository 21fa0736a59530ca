import type { Clock } from '../../ids.js';
import type { AnonymousUser } from '../../domain/widget.js';
import type { Store } from '../../storage/store.js';

/**
 * The anonymous users visitor tokens name, read through a short cache: every visitor request
 * checks its token's generation and its widget key against one. A change made on this process
 * (a renewal, an identify, a revoked key) drops the entries it affects at once; one made by
 * another process is seen within `cacheTtlMs` (AUTH_CACHE_TTL_MS, the bound API keys have).
 */
export class VisitorDirectory {
  readonly #cache = new Map<string, { user: AnonymousUser | null; cachedUntil: number }>();
  readonly #cacheLimit = 10_000;

  constructor(private readonly dependencies: { store: Store; clock: Clock; cacheTtlMs: number }) {}

  async find(input: { organizationId: string; id: string }): Promise<AnonymousUser | null> {
    const { store, clock, cacheTtlMs } = this.dependencies;
    const nowMs = clock.now().getTime();
    const cacheKey = `${input.organizationId}\u0000${input.id}`;
    const cached = this.#cache.get(cacheKey);
    if (cached && cached.cachedUntil > nowMs) return cached.user;
    const user = await store.visitors.findAnonymousUser(input);
    // Only users that exist: tokens are signed, so an unknown id means a deleted one, not a guess.
    if (cacheTtlMs > 0 && user !== null) {
      if (this.#cache.size >= this.#cacheLimit) this.#cache.clear();
      this.#cache.set(cacheKey, { user, cachedUntil: nowMs + cacheTtlMs });
    }
    return user;
  }

  forget(input: { organizationId: string; id: string }): void {
    this.#cache.delete(`${input.organizationId}\u0000${input.id}`);
  }

  /** A widget key was revoked: every cached user may be one of its sessions. */
  forgetAll(): void {
    this.#cache.clear();
  }
}
