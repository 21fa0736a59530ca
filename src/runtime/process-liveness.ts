import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger } from 'fastify';
import { DEAD_AFTER_MISSED_BEATS, type DeadProcess, type ServerProcess } from '../domain/processes.js';
import type { Clock, IdGenerator } from '../ids.js';
import type { Store } from '../storage/store.js';
import type { ProcessIdentity } from './run-types.js';

/** This process's boot id: new at every start, and again if the others took it for dead. */
export class BootId implements ProcessIdentity {
  #id: string;

  constructor(private readonly newId: IdGenerator) {
    this.#id = newId();
  }

  get id(): string {
    return this.#id;
  }

  /** Takes a fresh boot id and returns the old one, which is never used again. */
  renew(): string {
    const old = this.#id;
    this.#id = this.newId();
    return old;
  }
}

/**
 * Which other processes are dead, from what this process has seen of their beat counts: one
 * whose count has not moved for three of its own heartbeat intervals, measured from when this
 * observer first saw that count, by this process's monotonic clock. No timestamp written by
 * another host is compared with this one's, so clock skew between hosts (or a wall clock that
 * steps) cannot make a live process look dead. A newcomer therefore waits three intervals
 * before it calls anyone dead.
 */
export class BeatObserver {
  readonly #seen = new Map<string, { beats: number; since: number }>();

  observe(processes: readonly ServerProcess[], input: { selfId: string; nowMs: number }): DeadProcess[] {
    const dead: DeadProcess[] = [];
    const present = new Set<string>();
    for (const process of processes) {
      if (process.id === input.selfId) continue;
      present.add(process.id);
      const seen = this.#seen.get(process.id);
      if (!seen || seen.beats !== process.beats) {
        this.#seen.set(process.id, { beats: process.beats, since: input.nowMs });
      } else if (input.nowMs - seen.since >= DEAD_AFTER_MISSED_BEATS * process.heartbeatMs) {
        dead.push({ id: process.id, beats: process.beats });
      }
    }
    for (const id of this.#seen.keys()) if (!present.has(id)) this.#seen.delete(id);
    return dead;
  }
}

/** What the liveness watch asks of the runtime (AgentRuntime). */
export interface RunRecovery {
  /**
   * In one transaction: removes the rows of the dead processes (those still stuck), or of every
   * other process with `soleProcess`, and fails every orphaned run, ending it in its thread's
   * log. Returns how many runs and process rows it removed.
   */
  recoverOrphanedRuns(input: {
    deadProcesses: readonly DeadProcess[];
    soleProcess?: boolean;
  }): Promise<{ runs: number; processes: number }>;
  /** Stops this process's runs that belong to an old boot id (they have been or will be failed). */
  interruptRunsOf(processId: string): number;
  /** Rejects the tool approval requests past their deadline, as `expired`; returns how many. */
  expireToolApprovals(): Promise<number>;
}

/**
 * This process's row in `server_processes` and its watch over the others' (see
 * docs/adr/0007-process-heartbeats.md). Every `heartbeatMs` it beats, reads every process's
 * count, and — when a process is dead or a run is orphaned — fails the orphaned runs through
 * `recovery`; it also expires the tool approval requests whose deadline passed (any process
 * may: one decision wins per call). Ticks never overlap: the next is scheduled when one ends.
 */
export class ProcessLiveness {
  readonly #observer = new BeatObserver();
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | null = null;
  #stopped = false;

  constructor(
    private readonly dependencies: {
      store: Store;
      identity: BootId;
      recovery: RunRecovery;
      clock: Clock;
      heartbeatMs: number;
      logger: FastifyBaseLogger;
      /** A monotonic clock in milliseconds (tests pass their own). */
      elapsedMs?: () => number;
    },
  ) {}

  /**
   * Registers this process and fails what is already known dead: with `soleProcess` (a SQLite
   * file serves one server) every other process and its runs, else only runs whose process row
   * is gone or whose lease lapsed. Then beats and watches until `stop`. Returns the runs failed.
   */
  async start(options: { soleProcess: boolean }): Promise<number> {
    await this.#register();
    const recovered = await this.dependencies.recovery.recoverOrphanedRuns({
      deadProcesses: [],
      soleProcess: options.soleProcess,
    });
    this.#report(recovered);
    this.#observer.observe(await this.dependencies.store.processes.list(), this.#now());
    this.#schedule();
    return recovered.runs;
  }

  /** One heartbeat and sweep (the timer's work; tests call it directly). */
  async tick(): Promise<void> {
    const { store, recovery } = this.dependencies;
    if (!(await this.#beat())) await this.#renew();
    const dead = this.#observer.observe(await store.processes.list(), this.#now());
    const expired = await recovery.expireToolApprovals();
    if (expired > 0) this.dependencies.logger.info({ expired }, 'rejected tool approval requests that expired');
    const now = this.dependencies.clock.now().toISOString();
    if (dead.length === 0 && !(await store.runs.anyOrphaned({ now }))) return;
    this.#report(await recovery.recoverOrphanedRuns({ deadProcesses: dead }));
  }

  /** A clean stop, once this process's runs have ended: no more beats, and the row goes. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#tick;
    const id = this.dependencies.identity.id;
    await this.dependencies.store.write((writers) => writers.processes.remove({ id }));
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#tick = this.tick()
        .catch((error: unknown) => this.dependencies.logger.error({ err: error }, 'heartbeat or run sweep failed'))
        .finally(() => {
          this.#tick = null;
          this.#schedule();
        });
    }, this.dependencies.heartbeatMs);
    // The server's sockets keep the process alive, not the heartbeat.
    this.#timer.unref();
  }

  #now(): { selfId: string; nowMs: number } {
    return { selfId: this.dependencies.identity.id, nowMs: this.dependencies.elapsedMs?.() ?? performance.now() };
  }

  async #register(): Promise<void> {
    const { store, identity, clock, heartbeatMs } = this.dependencies;
    const row = { id: identity.id, host: os.hostname(), pid: process.pid, heartbeatMs, now: clock.now().toISOString() };
    await store.write((writers) => writers.processes.register(row));
  }

  #beat(): Promise<boolean> {
    const { store, identity, clock } = this.dependencies;
    const beat = { id: identity.id, now: clock.now().toISOString() };
    return store.write((writers) => writers.processes.beat(beat));
  }

  /**
   * Another process removed this one's row: it missed its beats (a stall, a lost connection)
   * and its runs were failed as interrupted. It goes on under a new boot id, and stops the runs
   * it still has under the old one.
   */
  async #renew(): Promise<void> {
    const { identity, recovery, logger } = this.dependencies;
    const lost = identity.renew();
    await this.#register();
    const runs = recovery.interruptRunsOf(lost);
    logger.warn(
      { lostProcessId: lost, processId: identity.id, runs },
      'another server took this one for dead (it missed its heartbeats); its runs were failed, and it goes on under a new boot id',
    );
  }

  #report(recovered: { runs: number; processes: number }): void {
    if (recovered.runs === 0 && recovered.processes === 0) return;
    this.dependencies.logger.warn(recovered, 'failed the runs of server processes that died');
  }
}
