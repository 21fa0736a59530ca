import type { FastifyBaseLogger } from 'fastify';
import { AppError } from '../../errors.js';
import type { SseRegistry } from '../../http/sse-registry.js';
import type { KeysService } from './keys.service.js';

/**
 * How often the keys of open streams are read again: the auth-cache lifetime, so a stream learns
 * of a revocation no later than a request would. At least 100 ms apart; once a second when the
 * cache is off (`AUTH_CACHE_TTL_MS=0`), which would otherwise mean "always".
 */
export function credentialCheckIntervalMs(authCacheTtlMs: number): number {
  return authCacheTtlMs === 0 ? 1000 : Math.max(100, authCacheTtlMs);
}

/**
 * An open stream was authenticated once, when it opened. A key revoked through this process ends
 * its streams at once (`KeysService` calls `SseRegistry.endKey`); one revoked by another process
 * or the CLI, or one that expired, is found here: every interval, the keys that hold streams on
 * this process are read again, in one query per few hundred keys, and the streams of those no
 * longer valid end with an in-band `key_revoked` error.
 */
export class StreamCredentialWatch {
  #timer: NodeJS.Timeout | undefined;
  #checking: Promise<void> | null = null;

  constructor(
    private readonly dependencies: {
      keys: KeysService;
      sse: SseRegistry;
      intervalMs: number;
      log: FastifyBaseLogger;
    },
  ) {}

  start(): void {
    this.#timer ??= setInterval(() => void this.check(), this.dependencies.intervalMs);
    this.#timer.unref();
  }

  /** Stops the checks; resolves once a check under way has finished. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#checking;
  }

  /** One check; a check still under way when the next is due is not run twice. */
  check(): Promise<void> {
    this.#checking ??= this.#check().finally(() => (this.#checking = null));
    return this.#checking;
  }

  async #check(): Promise<void> {
    const { keys, sse, log } = this.dependencies;
    const keyIds = sse.keyIds();
    if (keyIds.length === 0) return;
    let invalid: string[];
    try {
      invalid = await keys.invalidKeys(keyIds);
    } catch (error) {
      // The streams go on with the credential they had; the next check tries again.
      log.error({ err: error }, 'could not check the keys of open streams again');
      return;
    }
    for (const keyId of invalid) {
      const ended = sse.endKey(keyId, new AppError('key_revoked'));
      log.info({ keyId, streams: ended }, 'ended the streams of a revoked or expired key');
    }
  }
}
