import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../ids.js';
import type { Store } from '../../storage/store.js';
import type { McpServersService } from './mcp-servers.service.js';

/** Servers checked per round: a round never holds more connections than this. */
const SERVERS_PER_ROUND = 20;

/**
 * Periodic health checks (MCP_HEALTH_CHECK_INTERVAL_MS; 0 disables): every interval, the
 * servers whose last check is older than the interval are checked and the result stored as
 * their status. With several processes on one database each server is checked by one of them:
 * a process claims a server by moving its `last_health_check` forward with a compare-and-set
 * (McpServerWriter.claimHealthCheck) before checking it.
 */
export class McpHealthMonitor {
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> = Promise.resolve();

  constructor(
    private readonly dependencies: {
      store: Store;
      clock: Clock;
      mcp: McpServersService;
      intervalMs: number;
      log: FastifyBaseLogger;
    },
  ) {}

  start(): void {
    if (this.dependencies.intervalMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => {
      this.#round = this.#round
        .then(() => this.runOnce())
        .then(
          () => undefined,
          (error: unknown) => this.dependencies.log.warn({ err: error }, 'MCP health checks failed'),
        );
    }, this.dependencies.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#round;
  }

  /** One round: claims and checks the servers that are due. */
  async runOnce(): Promise<number> {
    const { store, clock, mcp, intervalMs, log } = this.dependencies;
    const now = clock.now();
    const before = new Date(now.getTime() - intervalMs).toISOString();
    const due = await store.mcpServers.dueForHealthCheck({ before, limit: SERVERS_PER_ROUND });
    let checked = 0;
    for (const server of due) {
      const claimed = await store.write((writers) =>
        writers.mcpServers.claimHealthCheck({ id: server.id, seen: server.last_health_check, now: now.toISOString() }),
      );
      if (!claimed) continue;
      try {
        await mcp.check(server);
        checked += 1;
      } catch (error) {
        log.warn({ err: error, mcpServerId: server.id }, 'MCP health check failed');
      }
    }
    return checked;
  }
}
