import { createHash, randomBytes } from 'node:crypto';
import { TraceFlags, trace, type Context } from '@opentelemetry/api';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';

/** A span's identity: 32 and 16 lowercase hex digits, as W3C trace context writes them. */
export interface TraceIds {
  traceId: string;
  spanId: string;
}

/**
 * The trace of a run (or flow execution) is named by the run's id, so every process that works on
 * it continues the same trace without storing anything: the first stretch's `invoke_agent` span
 * gets these ids, and a resumed stretch (after approvals, a pause, or another process taking a
 * crashed execution over) is a child of that span, in that trace. Any operator can compute a
 * run's trace id from its id (`sha256("parley-run:" + id)`, first 32 hex digits).
 */
export function runTraceIds(runId: string): TraceIds {
  const digest = createHash('sha256').update(`parley-run:${runId}`).digest('hex');
  return { traceId: digest.slice(0, 32), spanId: digest.slice(32, 48) };
}

/** Under `parent`, the context of a resumed stretch: a child of the run's first span. */
export function resumedParent(parent: Context, runId: string): Context {
  const ids = runTraceIds(runId);
  return trace.setSpanContext(parent, { ...ids, traceFlags: TraceFlags.SAMPLED, isRemote: true });
}

/**
 * The app's span ids: random, except for the one span started inside `withIds` (startSpan is
 * synchronous, and asks for its span id and then, being a root, its trace id — both taken here).
 */
export class PlannedIds implements IdGenerator {
  #planned: TraceIds | null = null;

  withIds<T>(ids: TraceIds, start: () => T): T {
    this.#planned = ids;
    try {
      return start();
    } finally {
      this.#planned = null;
    }
  }

  generateTraceId(): string {
    return this.#planned?.traceId ?? randomBytes(16).toString('hex');
  }

  generateSpanId(): string {
    return this.#planned?.spanId ?? randomBytes(8).toString('hex');
  }
}
