/**
 * Spaces the crawler's requests to one origin by the origin's robots.txt `Crawl-delay`: a request
 * waits until `delayMs` have passed since the previous request to that origin finished (the
 * crawler makes one request at a time, so this is the pause between two of them).
 */
export interface OriginPacing {
  paced<T>(input: { origin: string; delayMs: number; signal: AbortSignal }, task: () => Promise<T>): Promise<T>;
}

export interface PacingClock {
  now(): number;
  /** Resolves after `ms`, or as soon as `signal` aborts (the caller looks at the signal). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const SYSTEM_PACING_CLOCK: PacingClock = { now: () => performance.now(), sleep: abortableSleep };

export function createOriginPacing(clock: PacingClock = SYSTEM_PACING_CLOCK): OriginPacing {
  const lastFinished = new Map<string, number>();
  return {
    async paced({ origin, delayMs, signal }, task) {
      const last = lastFinished.get(origin);
      const wait = last === undefined ? 0 : last + delayMs - clock.now();
      if (wait > 0) await clock.sleep(wait, signal);
      try {
        return await task();
      } finally {
        lastFinished.set(origin, clock.now());
      }
    },
  };
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
