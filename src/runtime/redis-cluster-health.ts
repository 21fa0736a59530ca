import type { Cluster } from 'ioredis';
import { bounded } from '../redis-client.js';

export interface ClusterHealthInput {
  /** The live layer's command client: it holds a connection to every master once probed. */
  cluster: Cluster;
  /** The longest one probe step may take. */
  timeoutMs: number;
  /** Wait before probe n again while unhealthy (the reconnection back-off). */
  retryDelay: (attempt: number) => number;
  /** Called at each change of `healthy`. */
  changed: () => void;
}

/**
 * Whether every master of a Redis Cluster serves its slots now. ioredis alone cannot tell the
 * live layer: the cluster client stays `ready` while one master is dead (its node connection
 * ends and is dropped from the pool, nothing else is emitted; commands for that slot go round
 * MOVED and CLUSTERDOWN retries and fail), and the cluster subscriber's node may be another one
 * that still delivers every other thread's messages. So a lost node connection (`-node`, `node
 * error`) or a failed live-layer command (`suspect`) makes the cluster unhealthy at once, and a
 * probe runs with the reconnection back-off until it passes: the slot map refreshed (CLUSTER
 * SLOTS), then CLUSTER INFO on every master listed, each bounded and each answering
 * `cluster_state:ok` (a master with no replica that came back is served again only once the
 * others cleared its FAIL flag, which this reports too).
 */
export class ClusterHealth {
  readonly #input: ClusterHealthInput;
  #healthy = false;
  #probing = false;
  /** Counts the signals of trouble; a probe that saw one arrive meanwhile does not count as passed. */
  #signals = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(input: ClusterHealthInput) {
    this.#input = input;
    input.cluster.on('-node', () => this.suspect());
    input.cluster.on('node error', () => this.suspect());
    input.cluster.on('ready', () => this.suspect());
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  /** Something failed (or a node connection went): unhealthy until a probe passes. */
  suspect(): void {
    if (this.#closed) return;
    this.#signals += 1;
    this.#set(false);
    if (!this.#probing) void this.#probeUntilHealthy();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  async #probeUntilHealthy(): Promise<void> {
    this.#probing = true;
    for (let attempt = 0; !this.#closed; attempt++) {
      const signals = this.#signals;
      if ((await this.#probe()) && signals === this.#signals) break;
      await new Promise((resolve) => (this.#timer = setTimeout(resolve, this.#input.retryDelay(attempt))));
    }
    this.#probing = false;
    if (!this.#closed) this.#set(true);
  }

  async #probe(): Promise<boolean> {
    const { cluster, timeoutMs } = this.#input;
    if (cluster.status !== 'ready') return false;
    try {
      await bounded(
        new Promise<void>((resolve, reject) =>
          cluster.refreshSlotsCache((error) => (error ? reject(error) : resolve())),
        ),
        timeoutMs,
      );
      const masters = cluster.nodes('master');
      if (masters.length === 0) return false;
      const states = await Promise.all(
        masters.map((node) => bounded(node.cluster('INFO') as Promise<string>, timeoutMs)),
      );
      return states.every((info) => info.includes('cluster_state:ok'));
    } catch {
      // A master unreachable or not serving: the next probe follows the back-off.
      return false;
    }
  }

  #set(healthy: boolean): void {
    if (healthy === this.#healthy) return;
    this.#healthy = healthy;
    this.#input.changed();
  }
}
