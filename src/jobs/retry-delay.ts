import type { BackoffPolicy } from '../config-jobs.js';
import type { JobBackoff } from '../domain/jobs.js';

/**
 * How long a job waits before its next attempt after `attempt` (1-based) failed. Fixed: the base
 * every time. Exponential: `base × 2^(attempt − 1)`, at most `max`, with "equal jitter" — half of
 * it fixed, half random — so jobs that failed together (an outage) do not all come back in the
 * same instant, and none comes back sooner than half its delay.
 */
export function retryDelayMs(input: {
  attempt: number;
  job: JobBackoff | null;
  defaults: BackoffPolicy;
  random?: () => number;
}): number {
  const kind = input.job?.kind ?? input.defaults.kind;
  const base = input.job?.base_ms ?? input.defaults.baseMs;
  const max = input.job?.max_ms ?? input.defaults.maxMs;
  if (kind === 'fixed') return base;
  const full = Math.min(max, base * 2 ** Math.max(0, input.attempt - 1));
  const random = input.random ?? Math.random;
  return Math.round(full / 2 + (random() * full) / 2);
}
