import { readRedisUrl } from './config-rate-limits.js';
import { readInteger, readString, type Environment } from './config-values.js';

/**
 * The shared live layer (docs/streaming.md, "Many processes"; docs/adr/0032-redis-live-layer.md):
 * with `REDIS_URL` a thread's live events, its replay buffer of text deltas and run cancels go
 * through Redis, so any process can serve any follower. Without it, all of that stays in memory.
 */
export interface LiveConfig {
  /** `REDIS_URL` (the one rate limits use): the live layer is shared through it; undefined: in memory. */
  readonly redisUrl: string | undefined;
  /** `LIVE_REDIS_PREFIX`: before every key and channel of the live layer (several deployments, one Redis). */
  readonly keyPrefix: string;
  /** `LIVE_REDIS_TIMEOUT_MS`: the longest any Redis command of the live layer may take. */
  readonly timeoutMs: number;
  /** `LIVE_REPLAY_MAX_LEN`: about how many deltas a thread's replay stream keeps (`MAXLEN ~`). */
  readonly replayMaxLength: number;
  /** `LIVE_REPLAY_TTL_SECONDS`: a thread's replay stream expires this long after its last delta. */
  readonly replayTtlSeconds: number;
  /** `LIVE_DEGRADED_POLL_MS`: while Redis is unreachable, followers read stored events this often. */
  readonly degradedPollMs: number;
  /** `LIVE_CANCEL_WAIT_MS`: how long a cancel waits for the process that owns the run to answer. */
  readonly cancelWaitMs: number;
}

export const LIVE_DEFAULTS = {
  LIVE_REDIS_PREFIX: 'parley:live',
  LIVE_REDIS_TIMEOUT_MS: 500,
  LIVE_REPLAY_MAX_LEN: 20_000,
  LIVE_REPLAY_TTL_SECONDS: 3600,
  LIVE_DEGRADED_POLL_MS: 1000,
  LIVE_CANCEL_WAIT_MS: 1000,
} as const;

export function readLiveConfig(environment: Environment): LiveConfig {
  const integer = (name: keyof typeof LIVE_DEFAULTS, bounds: { min: number; max: number }) =>
    readInteger(environment, name, LIVE_DEFAULTS[name] as number, bounds);
  return Object.freeze({
    redisUrl: readRedisUrl(environment),
    keyPrefix: readString(environment, 'LIVE_REDIS_PREFIX', LIVE_DEFAULTS.LIVE_REDIS_PREFIX),
    timeoutMs: integer('LIVE_REDIS_TIMEOUT_MS', { min: 10, max: 60_000 }),
    replayMaxLength: integer('LIVE_REPLAY_MAX_LEN', { min: 100, max: 10_000_000 }),
    replayTtlSeconds: integer('LIVE_REPLAY_TTL_SECONDS', { min: 10, max: 7 * 24 * 3600 }),
    degradedPollMs: integer('LIVE_DEGRADED_POLL_MS', { min: 10, max: 60_000 }),
    cancelWaitMs: integer('LIVE_CANCEL_WAIT_MS', { min: 10, max: 60_000 }),
  });
}
