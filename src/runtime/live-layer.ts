import type { FastifyBaseLogger } from 'fastify';
import type { LiveConfig } from '../config.js';
import { MemoryDeltaBuffer, type DeltaBuffer } from './delta-buffer.js';
import { MemoryLiveBus, type LiveBus } from './live-bus.js';
import { RedisDeltaBuffer } from './redis-delta-buffer.js';
import { RedisLiveBus } from './redis-live-bus.js';
import { RedisLiveConnections } from './redis-live-connections.js';
import { RedisRemoteCancel, type RemoteCancel, type RunRef } from './remote-cancel.js';

/**
 * Where a process's live events, replay buffer and cancels go: this process's memory, or — with
 * `REDIS_URL` — Redis, shared by every process (docs/adr/0032-redis-live-layer.md).
 */
export interface LiveLayer {
  bus: LiveBus;
  deltas: DeltaBuffer;
  /** Reaches the process that owns a run; null in memory (a run is then on this process or none). */
  remoteCancel(cancelHere: (run: RunRef) => boolean): RemoteCancel | null;
  /**
   * Resolves once followers can be served live (at once in memory; with Redis, once connected and
   * subscribed), or false after `timeoutMs`: then streams start degraded and turn live later.
   */
  connected(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export function createLiveLayer(config: LiveConfig, log: FastifyBaseLogger): LiveLayer {
  if (config.redisUrl === undefined) {
    return {
      bus: new MemoryLiveBus(),
      deltas: new MemoryDeltaBuffer(),
      remoteCancel: () => null,
      connected: () => Promise.resolve(true),
      close: () => Promise.resolve(),
    };
  }
  const { keyPrefix } = config;
  const redis = new RedisLiveConnections({ url: config.redisUrl, keyPrefix, timeoutMs: config.timeoutMs }, log);
  const cancels: RedisRemoteCancel[] = [];
  return {
    bus: new RedisLiveBus({ redis, keyPrefix }),
    deltas: new RedisDeltaBuffer({
      redis,
      keyPrefix,
      maxLength: config.replayMaxLength,
      ttlSeconds: config.replayTtlSeconds,
    }),
    remoteCancel: (cancelHere) => {
      const cancel = new RedisRemoteCancel({ redis, keyPrefix, waitMs: config.cancelWaitMs, cancelHere, log });
      cancels.push(cancel);
      return cancel;
    },
    connected: (timeoutMs) => redis.whenLive(timeoutMs),
    close: async () => {
      for (const cancel of cancels) cancel.close();
      await redis.close();
    },
  };
}
