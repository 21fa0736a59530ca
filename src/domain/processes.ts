/** A server process as `server_processes` records it (see docs/adr/0007-process-heartbeats.md). */
export interface ServerProcess {
  /** The boot id: new at every start, never reused. */
  id: string;
  host: string;
  pid: number;
  /** How often it beats; it is dead once its count has not moved for three of these. */
  heartbeatMs: number;
  /** Its heartbeats so far: the one liveness signal other processes read. */
  beats: number;
  startedAt: string;
  /** When it last beat, by its own clock (for operators only). */
  heartbeatAt: string;
}

/** A process taken for dead, with the count it was seen stuck at (its row goes only if still so). */
export interface DeadProcess {
  id: string;
  beats: number;
}

/** Missed heartbeats after which a process is dead. */
export const DEAD_AFTER_MISSED_BEATS = 3;
