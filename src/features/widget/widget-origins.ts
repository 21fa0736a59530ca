import type { Clock } from '../../ids.js';
import type { WidgetOriginPolicy } from '../../http/cors.js';
import type { Store } from '../../storage/store.js';

/**
 * Which page origins the widget keys allow, for CORS (src/http/cors.ts): the answer for an
 * (agent, origin) pair is read from the database and kept `cacheTtlMs`, so a preflight storm
 * costs map look-ups. A key created or revoked on this process drops the cache at once; on other
 * processes it takes effect within `cacheTtlMs`.
 */
export class WidgetOrigins implements WidgetOriginPolicy {
  readonly #cache = new Map<string, { allowed: boolean; cachedUntil: number }>();
  readonly #cacheLimit = 10_000;

  constructor(private readonly dependencies: { store: Store; clock: Clock; cacheTtlMs: number }) {}

  allows(input: { origin: string; agentId: string | null }): boolean | Promise<boolean> {
    // Ids in paths are case-insensitive UUIDs; stored ones are lower case.
    const agentId = input.agentId?.toLowerCase() ?? null;
    const cacheKey = `${agentId ?? '*'}\u0000${input.origin}`;
    const nowMs = this.dependencies.clock.now().getTime();
    const cached = this.#cache.get(cacheKey);
    if (cached && cached.cachedUntil > nowMs) return cached.allowed;
    return this.dependencies.store.widgetKeys.originAllowed({ origin: input.origin, agentId }).then((allowed) => {
      if (this.dependencies.cacheTtlMs > 0) {
        if (this.#cache.size >= this.#cacheLimit) this.#cache.clear();
        this.#cache.set(cacheKey, { allowed, cachedUntil: nowMs + this.dependencies.cacheTtlMs });
      }
      return allowed;
    });
  }

  forgetAll(): void {
    this.#cache.clear();
  }
}
