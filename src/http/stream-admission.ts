import { AppError } from '../errors.js';
import type { Principal } from './auth.js';

/** Who a stream is counted against: its credential and its organisation. */
export interface StreamTenant {
  organizationId: string;
  /** The API key's id; null for an anonymous end user (counted per user instead). */
  keyId: string | null;
  /** The key's id, or `anonymous:<id>`: the name the per-credential limit counts under. */
  credential: string;
}

export function tenantOf(principal: Principal): StreamTenant {
  return principal.kind === 'user'
    ? { organizationId: principal.organizationId, keyId: principal.keyId, credential: principal.keyId }
    : {
        organizationId: principal.organizationId,
        keyId: null,
        credential: `anonymous:${principal.anonymousUserId}`,
      };
}

export interface StreamLimits {
  /** Open streams per credential; 0 for no limit. */
  maxPerKey: number;
  /** Open streams per organisation; 0 for no limit. */
  maxPerOrganization: number;
}

/**
 * A 429 tells the client when to try again. A slot frees only when one of the tenant's own streams
 * ends, which the server cannot foresee: 5 s keeps a client that retries blindly from hammering.
 */
const RETRY_AFTER_SECONDS = '5';

/**
 * The event streams of this process, counted per credential and per organisation. A slot is
 * taken before a request does any work its stream would report on, and given back exactly once
 * when that stream's response is over (or at once when no stream was opened). Each credential's
 * slots are kept, so a revoked key's streams can be found.
 */
export class StreamAdmission<Slot> {
  readonly #byCredential = new Map<string, { keyId: string | null; slots: Set<Slot> }>();
  readonly #byOrganization = new Map<string, number>();
  #size = 0;

  constructor(private readonly limits: StreamLimits) {}

  /** Throws 429 `too_many_streams`, naming the limit reached, when `tenant` may open no more. */
  check(tenant: StreamTenant): void {
    const { maxPerKey, maxPerOrganization } = this.limits;
    const held = this.#byCredential.get(tenant.credential)?.slots.size ?? 0;
    if (maxPerKey > 0 && held >= maxPerKey) {
      throw tooManyStreams(
        `This API key has ${maxPerKey} open event streams, the most it may hold; close one before opening another.`,
      );
    }
    const organization = this.#byOrganization.get(tenant.organizationId) ?? 0;
    if (maxPerOrganization > 0 && organization >= maxPerOrganization) {
      throw tooManyStreams(
        `This organisation has ${maxPerOrganization} open event streams, the most it may hold; close one before opening another.`,
      );
    }
  }

  /** Counts `slot` against `tenant`, without a check (see `admit`). */
  add(tenant: StreamTenant, slot: Slot): void {
    const held = this.#byCredential.get(tenant.credential);
    if (held) held.slots.add(slot);
    else this.#byCredential.set(tenant.credential, { keyId: tenant.keyId, slots: new Set([slot]) });
    this.#byOrganization.set(tenant.organizationId, (this.#byOrganization.get(tenant.organizationId) ?? 0) + 1);
    this.#size += 1;
  }

  /** Checks, then counts `slot` against `tenant`. */
  admit(tenant: StreamTenant, slot: Slot): void {
    this.check(tenant);
    this.add(tenant, slot);
  }

  /** Gives the slot back; a slot that is not held is ignored. */
  release(tenant: StreamTenant, slot: Slot): void {
    const held = this.#byCredential.get(tenant.credential);
    if (!held?.slots.delete(slot)) return;
    this.#size -= 1;
    if (held.slots.size === 0) this.#byCredential.delete(tenant.credential);
    const organization = (this.#byOrganization.get(tenant.organizationId) ?? 1) - 1;
    if (organization === 0) this.#byOrganization.delete(tenant.organizationId);
    else this.#byOrganization.set(tenant.organizationId, organization);
  }

  /** Slots held, over every tenant. */
  get size(): number {
    return this.#size;
  }

  /** The slots held under an API key (a copy: ending them releases them). */
  slotsOfKey(keyId: string): Slot[] {
    const held = this.#byCredential.get(keyId);
    return held && held.keyId === keyId ? [...held.slots] : [];
  }

  /** The API keys that hold at least one slot. */
  keyIds(): string[] {
    const keyIds: string[] = [];
    for (const { keyId } of this.#byCredential.values()) if (keyId !== null) keyIds.push(keyId);
    return keyIds;
  }
}

function tooManyStreams(message: string): AppError {
  return new AppError('too_many_streams', { message, headers: { 'retry-after': RETRY_AFTER_SECONDS } });
}
