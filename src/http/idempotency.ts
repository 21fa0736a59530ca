import { createHash, type Hash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, validationError } from '../errors.js';
import type { Clock } from '../ids.js';
import type { IdempotencyClaim, Store } from '../storage/store.js';
import { principalOf } from './auth.js';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * `Idempotency-Key` for creating POSTs, kept 24 hours per organisation:
 * - a replay (same key, same request) gets the recorded status and body, with
 *   `idempotent-replayed: true`;
 * - the same key with another request gets 422 `idempotency_key_reused`;
 * - while the first request is still running, 409 `idempotency_key_in_flight` (checked here for
 *   this process, and by the record's primary key across processes).
 * Requests that fail record nothing, so a corrected retry with the same key runs.
 */
export class Idempotency {
  readonly #inFlight = new Set<string>();

  constructor(private readonly dependencies: { store: Store; clock: Clock }) {}

  /** Runs `work` under the request's Idempotency-Key (if any) and sends its result. */
  async send<T>(
    request: FastifyRequest,
    reply: FastifyReply,
    work: (claim: IdempotencyClaim | undefined) => Promise<T>,
  ): Promise<void> {
    // Without the header there is nothing to look up: skip the asynchronous path.
    if (request.headers['idempotency-key'] === undefined) {
      await reply.send(await work(undefined));
      return;
    }
    const started = await this.begin(request, reply);
    if (started.kind === 'replayed') return;
    try {
      await reply.send(await work(started.claim));
    } finally {
      started.release();
    }
  }

  /**
   * The lower-level form, for routes that answer in their own way (streams): either the recorded
   * response has been sent (`replayed`), or the caller proceeds with the claim (undefined when the
   * request has no key) and calls `release()` once the work has been recorded or has failed.
   */
  async begin(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<{ kind: 'replayed' } | { kind: 'proceed'; claim: IdempotencyClaim | undefined; release: () => void }> {
    const header = request.headers['idempotency-key'];
    if (header === undefined) return { kind: 'proceed', claim: undefined, release: () => undefined };
    if (typeof header !== 'string' || !KEY_PATTERN.test(header)) {
      throw validationError(
        ['header', 'idempotency-key'],
        'Idempotency-Key must be 1 to 255 printable ASCII characters',
        'string_pattern_mismatch',
      );
    }
    const principal = principalOf(request);
    const { organizationId } = principal;
    // A widget visitor's keys are theirs alone: another visitor of the organisation sending the
    // same key gets no replay of this visitor's answer.
    const key = principal.kind === 'anonymous' ? `visitor:${principal.anonymousUserId}:${header}` : header;
    const now = this.dependencies.clock.now();
    const fingerprint = fingerprintOf(request);
    const recorded = await this.dependencies.store.idempotency.find({
      organizationId,
      key,
      now: now.toISOString(),
    });
    if (recorded) {
      if (recorded.fingerprint !== fingerprint) throw new AppError('idempotency_key_reused');
      await reply
        .code(recorded.status_code)
        .header('idempotent-replayed', 'true')
        .type('application/json; charset=utf-8')
        .send(recorded.response_json);
      return { kind: 'replayed' };
    }
    const slot = `${organizationId}\u0000${key}`;
    if (this.#inFlight.has(slot)) throw new AppError('idempotency_key_in_flight');
    this.#inFlight.add(slot);
    return {
      kind: 'proceed',
      claim: { organizationId, key, fingerprint, now },
      release: () => this.#inFlight.delete(slot),
    };
  }
}

/**
 * Method, path and the validated body: what makes two requests "the same". The path is lower-cased
 * (ids are case-insensitive UUIDs) and the body's keys sorted, so neither spelling nor key order
 * makes a retry look like another request.
 */
function fingerprintOf(request: FastifyRequest): string {
  const path = (request.url.split('?')[0] ?? request.url).toLowerCase();
  const hash = createHash('sha256').update(`${request.method} ${path}\n`);
  hashCanonicalJson(request.body ?? null, hash);
  return hash.digest('hex');
}

/**
 * Feeds the value's JSON, keys sorted, to the hash piece by piece: the same bytes as building the
 * string first, so records made that way still match. Building it copied each nested value once
 * per level above it: a 1 MiB string 195 objects deep took 122 ms to fingerprint, 2.4 ms this way
 * (a wide body, 200,000 numbers in one array, takes 26 ms against 22).
 */
function hashCanonicalJson(value: unknown, hash: Hash): void {
  if (Array.isArray(value)) {
    hash.update('[');
    value.forEach((item, index) => {
      if (index > 0) hash.update(',');
      hashCanonicalJson(item, hash);
    });
    hash.update(']');
  } else if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([left], [right]) =>
      left < right ? -1 : left > right ? 1 : 0,
    );
    hash.update('{');
    entries.forEach(([key, item], index) => {
      hash.update(index > 0 ? `,${JSON.stringify(key)}:` : `${JSON.stringify(key)}:`);
      hashCanonicalJson(item, hash);
    });
    hash.update('}');
  } else {
    hash.update(JSON.stringify(value) ?? 'null');
  }
}
