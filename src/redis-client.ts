import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';

/**
 * The one place a Redis client is made from `REDIS_URL` (rate limits and the live layer):
 * `redis://` / `rediss://` is one server, `redis+cluster://` / `rediss+cluster://` a Redis Cluster
 * reached through the seed nodes the URL lists, comma-separated
 * (`redis+cluster://user:password@10.0.0.1:6379,10.0.0.2:6379`). Every key Parley writes holds
 * one hash tag per thread or one key per command, so no command spans two slots (no CROSSSLOT).
 */
export type RedisClient = Redis | Cluster;

const CLUSTER_SCHEME = /^(rediss?)\+cluster:\/\//;

/** Whether the URL names a Redis Cluster. */
export function isClusterUrl(url: string): boolean {
  return CLUSTER_SCHEME.test(url);
}

export interface ClusterAddress {
  nodes: ClusterNode[];
  username: string | undefined;
  password: string | undefined;
  tls: boolean;
}

/** The seed nodes and credentials of a `redis+cluster://` URL; throws (without the URL) when malformed. */
export function parseClusterUrl(url: string): ClusterAddress {
  const scheme = CLUSTER_SCHEME.exec(url);
  if (!scheme) throw new Error('not a redis+cluster:// URL');
  let rest = url.slice(scheme[0].length).replace(/\/(\d*)$/, '');
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const auth = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = auth.indexOf(':');
    username = decodeURIComponent(colon < 0 ? auth : auth.slice(0, colon)) || undefined;
    password = colon < 0 ? undefined : decodeURIComponent(auth.slice(colon + 1));
  }
  const nodes = rest.split(',').map((node) => {
    const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(node);
    if (!match) throw new Error('a cluster node is not host:port');
    return { host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2] ?? 6379) };
  });
  return { nodes, username, password, tls: scheme[1] === 'rediss' };
}

export interface RedisClientOptions {
  /** The longest a command may take; past it the command fails. */
  commandTimeout: number;
  enableAutoPipelining?: boolean;
  autoResubscribe?: boolean;
  /** Reconnection back-off (ms for attempt n). */
  retryStrategy?: (attempt: number) => number;
}

/**
 * A client that fails fast: no offline queue, no retry of a command, `commandTimeout`. A cluster
 * client follows MOVED/ASK redirections as it must, and reconnects (its slots refreshed) with the
 * same back-off as a single server.
 */
export function createRedisClient(url: string, options: RedisClientOptions): RedisClient {
  const common: RedisOptions = {
    commandTimeout: options.commandTimeout,
    maxRetriesPerRequest: 0,
    ...(options.autoResubscribe === undefined ? {} : { autoResubscribe: options.autoResubscribe }),
  };
  if (!isClusterUrl(url)) {
    return new Redis(url, {
      ...common,
      enableOfflineQueue: false,
      enableAutoPipelining: options.enableAutoPipelining ?? false,
      ...(options.retryStrategy ? { retryStrategy: options.retryStrategy } : {}),
    });
  }
  const address = parseClusterUrl(url);
  return new Cluster(address.nodes, {
    enableOfflineQueue: false,
    enableAutoPipelining: options.enableAutoPipelining ?? false,
    ...(options.retryStrategy ? { clusterRetryStrategy: options.retryStrategy } : {}),
    slotsRefreshTimeout: options.commandTimeout,
    redisOptions: {
      ...common,
      ...(address.username === undefined ? {} : { username: address.username }),
      ...(address.password === undefined ? {} : { password: address.password }),
      ...(address.tls ? { tls: {} } : {}),
    },
  });
}

/**
 * `promise`, or a rejection once `ms` passed. For what ioredis does not time out itself: its
 * cluster subscriber connection is made without the node options (no `commandTimeout`), and a
 * cluster command waiting in a retry (MOVED, CLUSTERDOWN, a failover) is timed only while sent.
 */
export function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
