import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { isClusterUrl, parseClusterUrl } from '../../src/redis-client.js';

describe('the live layer settings', () => {
  it('are in memory by default', () => {
    expect(loadConfig({}).live).toEqual({
      redisUrl: undefined,
      keyPrefix: 'parley:live',
      timeoutMs: 500,
      replayMaxLength: 20_000,
      replayTtlSeconds: 3600,
      degradedPollMs: 1000,
      cancelWaitMs: 1000,
    });
  });

  it('share REDIS_URL with the rate limits and read their own LIVE_* values', () => {
    const config = loadConfig({
      REDIS_URL: 'redis://cache:6379',
      LIVE_REDIS_PREFIX: 'prod:live',
      LIVE_REDIS_TIMEOUT_MS: '250',
      LIVE_REPLAY_MAX_LEN: '5000',
      LIVE_REPLAY_TTL_SECONDS: '600',
      LIVE_DEGRADED_POLL_MS: '2000',
      LIVE_CANCEL_WAIT_MS: '1500',
    });
    expect(config.live).toEqual({
      redisUrl: 'redis://cache:6379',
      keyPrefix: 'prod:live',
      timeoutMs: 250,
      replayMaxLength: 5000,
      replayTtlSeconds: 600,
      degradedPollMs: 2000,
      cancelWaitMs: 1500,
    });
    expect(config.rateLimits.redisUrl).toBe('redis://cache:6379');
  });

  it('refuse values out of range, naming the variable', () => {
    expect(() => loadConfig({ LIVE_REDIS_TIMEOUT_MS: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ LIVE_REPLAY_MAX_LEN: '10' })).toThrow(/LIVE_REPLAY_MAX_LEN/);
    expect(() => loadConfig({ REDIS_URL: 'http://cache' })).toThrow(/REDIS_URL/);
  });

  it('name a Redis Cluster by redis+cluster:// with its seed nodes', () => {
    const url = 'rediss+cluster://app:p%40ss@10.0.0.1:7000,10.0.0.2,[::1]:7002';
    expect(loadConfig({ REDIS_URL: url }).live.redisUrl).toBe(url);
    expect(isClusterUrl(url)).toBe(true);
    expect(isClusterUrl('redis://cache:6379')).toBe(false);
    expect(parseClusterUrl(url)).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 6379 },
        { host: '::1', port: 7002 },
      ],
      username: 'app',
      password: 'p@ss',
      tls: true,
    });
    expect(parseClusterUrl('redis+cluster://127.0.0.1:7000/')).toEqual({
      nodes: [{ host: '127.0.0.1', port: 7000 }],
      username: undefined,
      password: undefined,
      tls: false,
    });
    expect(() => loadConfig({ REDIS_URL: 'redis+cluster://secret@a:1,,b:2' })).toThrow(
      'Invalid configuration: REDIS_URL must list its cluster nodes as host:port, comma-separated',
    );
  });
});
