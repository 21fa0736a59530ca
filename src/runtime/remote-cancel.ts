import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { RedisLiveConnections } from './redis-live-connections.js';

export interface RunRef {
  organizationId: string;
  threadId: string;
  runId: string;
}

/**
 * Cancels a run some other process executes. `cancelled`: the process that owns it said it stops
 * it; `unreachable`: no process answered in time (none owns it, or Redis cannot be reached).
 */
export interface RemoteCancel {
  cancel(run: RunRef): Promise<'cancelled' | 'unreachable'>;
}

interface CancelRequest extends RunRef {
  request: string;
  replyTo: string;
}

/**
 * Cancel over Redis Pub/Sub: the request is broadcast on `<prefix>:control`; every process tries
 * it on its own runs (`cancelHere`), and the one that owns the run answers on the asker's reply
 * channel (`<prefix>:reply:<uuid>`, one per process). Both channels are on the process's one
 * subscriber connection, subscribed for the process's life.
 */
export class RedisRemoteCancel implements RemoteCancel {
  readonly #redis: RedisLiveConnections;
  readonly #control: string;
  readonly #replyTo: string;
  readonly #waitMs: number;
  readonly #pending = new Map<string, () => void>();
  readonly #stop: (() => void)[];

  constructor(input: {
    redis: RedisLiveConnections;
    keyPrefix: string;
    waitMs: number;
    /** Cancels the run if this process runs it (AgentRuntime.cancel). */
    cancelHere: (run: RunRef) => boolean;
    log: FastifyBaseLogger;
  }) {
    this.#redis = input.redis;
    this.#control = `${input.keyPrefix}:control`;
    this.#replyTo = `${input.keyPrefix}:reply:${randomUUID()}`;
    this.#waitMs = input.waitMs;
    this.#stop = [
      this.#redis.listen(this.#control, (message) => {
        const request = JSON.parse(message) as CancelRequest;
        if (!input.cancelHere(request)) return;
        input.log.info({ runId: request.runId }, 'run cancelled at the request of another process');
        this.#redis.commands.publish(request.replyTo, request.request).catch(() => undefined);
      }),
      this.#redis.listen(this.#replyTo, (request) => this.#pending.get(request)?.()),
    ];
  }

  async cancel(run: RunRef): Promise<'cancelled' | 'unreachable'> {
    // Not subscribed to the reply channel (Redis away): no answer could come.
    if (!this.#redis.live) return 'unreachable';
    const request = randomUUID();
    const message: CancelRequest = {
      organizationId: run.organizationId,
      threadId: run.threadId,
      runId: run.runId,
      request,
      replyTo: this.#replyTo,
    };
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<'cancelled' | 'unreachable'>((resolve) => {
      this.#pending.set(request, () => resolve('cancelled'));
      timer = setTimeout(() => resolve('unreachable'), this.#waitMs);
    });
    try {
      await this.#redis.commands.publish(this.#control, JSON.stringify(message));
      return await answered;
    } catch {
      return 'unreachable';
    } finally {
      clearTimeout(timer);
      this.#pending.delete(request);
    }
  }

  close(): void {
    for (const stop of this.#stop) stop();
  }
}
