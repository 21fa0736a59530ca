import type { AttemptEnd } from '../storage/kysely/jobs-store.js';
import type { Job } from '../domain/jobs.js';
import type { Store, StoreWriters } from '../storage/store.js';
import type { JobOutcome } from './job-handler.js';

interface PendingEnd {
  end: AttemptEnd;
  commit: JobOutcome['commit'];
  settle: (error?: unknown) => void;
}

/** At most this many ends share one transaction. */
const MAX_ENDS_PER_TRANSACTION = 256;

/**
 * Claims made in the batches' transactions. `reserve` says how many the next batch may claim
 * (the count stays reserved until `settle`, so no other claim of the worker takes those places
 * meanwhile); `claim` runs in the transaction (again if it is retried); `settle` gets the jobs
 * once the transaction committed — none if it failed.
 */
export interface EndsRefill {
  reserve(): number;
  claim(writers: StoreWriters, count: number): Promise<Job[]>;
  settle(reserved: number, claimed: Job[]): void;
}

/**
 * The ends of a worker's attempts, written in batches: while one batch's transaction commits,
 * the ends that arrive wait and then share the next one — group commit, as ADR 0001 does for
 * SQLite; on PostgreSQL it is what saves a transaction (and its WAL flush) per job. With
 * `refill`, the same transaction claims successors (as many as the worker has room for), so a
 * busy worker spends one commit per batch instead of one to end and another to claim.
 *
 * Invariants: an end is acknowledged (its promise resolves) only after its transaction committed;
 * an end names its attempt's fencing token, so a batch ends only the jobs whose attempts still
 * hold them, and a job's `commit` runs only if its own end took effect; a batch that fails (one
 * `commit` threw) takes the others' ends with it, so each is then written alone and only the
 * failing one is refused.
 */
export class JobEnds {
  readonly #pending: PendingEnd[] = [];
  #flushing = false;

  constructor(
    private readonly options: {
      store: Store;
      now: () => string;
      /** Claims in each batch's transaction; settled before any end of the batch. */
      refill?: EndsRefill;
    },
  ) {}

  /** No end is waiting or being written. */
  get idle(): boolean {
    return !this.#flushing && this.#pending.length === 0;
  }

  /** Ends the attempt (and runs `commit` in the same transaction if it did); settles once committed. */
  end(end: AttemptEnd, commit: JobOutcome['commit']): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ end, commit, settle: (error) => (error === undefined ? resolve() : reject(error)) });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#pending.length > 0) await this.#write();
    } finally {
      this.#flushing = false;
    }
  }

  /**
   * Writes the next batch: the ends waiting when its transaction begins, not when it was asked
   * for. The store starts a write unit at the end of the event-loop turn (group commit), by
   * which time the handlers that returned in this turn have all queued their ends: taking them
   * then, instead of the one end that started the flush, measured 47 → N ends a batch
   * (ADR 0040). The batch and its reservation are taken once: a unit may run twice.
   */
  async #write(alone?: PendingEnd): Promise<void> {
    const refill = this.options.refill;
    let taken: { batch: PendingEnd[]; reserved: number } | null = null;
    const take = () =>
      (taken ??= {
        batch: alone ? [alone] : this.#pending.splice(0, MAX_ENDS_PER_TRANSACTION),
        reserved: refill?.reserve() ?? 0,
      });
    let claimed: Job[];
    try {
      claimed = await this.options.store.write((writers) => this.#endAndClaim(writers, take()));
    } catch (error) {
      const { batch, reserved } = take();
      refill?.settle(reserved, []);
      if (batch.length === 1) return batch[0]!.settle(error);
      for (const pending of batch) await this.#write(pending);
      return;
    }
    const { batch, reserved } = take();
    refill?.settle(reserved, claimed);
    for (const pending of batch) pending.settle();
  }

  /**
   * The batch's ends (each `commit` only if its own end took effect) and the successors' claim,
   * issued together so that on PostgreSQL they share round trips; both are settled before the
   * unit returns or throws, so no statement of it outlives its transaction.
   */
  async #endAndClaim(writers: StoreWriters, { batch, reserved }: { batch: PendingEnd[]; reserved: number }) {
    const ending = (async () => {
      const ended = await writers.jobs.finishMany({
        ends: batch.map((pending) => pending.end),
        now: this.options.now(),
      });
      for (const pending of batch) if (ended.has(pending.end.id)) await pending.commit?.(writers);
    })();
    const claiming = reserved > 0 ? this.options.refill!.claim(writers, reserved) : Promise.resolve([]);
    const [ends, claims] = await Promise.allSettled([ending, claiming]);
    if (ends.status === 'rejected') throw ends.reason;
    if (claims.status === 'rejected') throw claims.reason;
    return claims.value;
  }
}
