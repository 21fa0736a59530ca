/**
 * A reply that survives a dropped connection: when the stream of a reply ends before the reply
 * does (a network blip, a proxy cutting an idle-looking response, the server's `shutdown` notice
 * in a rolling restart, an in-band `stream-error`), the widget reconnects to the thread stream
 * with `Last-Event-ID` and goes on (docs/streaming.md: every later event exactly once, in order).
 * No DOM: it runs in the widget and in Node's unit tests alike.
 */

/** A Parley stream event as it arrives: its SSE `id` ('' when it had none) and its JSON `data`. */
export interface StreamFrame<T> {
  id: string;
  data: T;
}

/** What the resume logic reads of an event (docs/streaming.md, "Event payloads"). */
export interface RunEvent {
  type: string;
  run_id?: string;
}

export interface RetryPolicy {
  /** Reconnections tried one after another without an event between them, before giving up. */
  attempts: number;
  /** The first wait; each later one doubles, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * 8 tries: between about 20 s and 40 s of waiting in all. A rolling restart needs one try (the
 * server's own `retry:` hint is 1 s); a single instance restarting took 24 s here (7.6 s to drain
 * a reply and exit, 16 s to start, on the shared 2-core test machine), which 8 tries usually
 * cover, without leaving a visitor staring at a spinner for minutes.
 */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 500, maxDelayMs: 8_000 };

/**
 * The wait before reconnection `attempt` (1-based): half of the exponential step is fixed, the
 * other half random ("equal jitter"), so a server restart does not get every widget back in the
 * same millisecond, yet the waits still grow. `random` is in [0, 1).
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: number): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(step / 2 + (step / 2) * random);
}

/** The reconnections ran out: the reply goes on on the server, but this page lost it. */
export class ConnectionLost extends Error {
  constructor(readonly attempts: number) {
    super('The connection was lost. The reply is kept: reload the page to see it.');
  }
}

/** An error answer that another try will not change (a 4xx other than 408 and 429). */
export function isFinal(error: unknown): boolean {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

export interface ResumeInput<T extends RunEvent> {
  /**
   * Opens a stream: `null` for the first one (the POST of the visitor's message), else the
   * thread stream from that event id (`Last-Event-ID`).
   */
  open(lastEventId: string | null, signal: AbortSignal): AsyncIterable<StreamFrame<T>>;
  /** Where to start: null to `open(null)` first, or the id to follow from (a reload mid-reply). */
  from: string | null;
  /** The run, when known before its `run-start` arrives (a reload: its reply's `metadata.run_id`). */
  runId?: string | null;
  signal: AbortSignal;
  /** Before each wait: reconnection `attempt` will be tried after `delayMs`. */
  onReconnecting(attempt: number, delayMs: number): void;
  /** An event arrived on a reconnected stream. */
  onResumed(): void;
  policy?: RetryPolicy;
  random?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * Yields the events of one run — from its `run-start` (the first one seen, when no run is known
 * yet) to its `run-end` or `run-error` — across as many streams as it takes. A follower stream
 * also carries other runs' events (another tab of the visitor): those with another `run_id`
 * are left out, and a `text-delta` before the run is known too. Events without `run_id`
 * (`message-end`, …) pass. A failure before any event had an id (nothing to resume from: the
 * message may not even be stored) and a final error answer are thrown as they are.
 */
export async function* resumableRun<T extends RunEvent>(input: ResumeInput<T>): AsyncGenerator<T> {
  const policy = input.policy ?? DEFAULT_RETRY;
  const random = input.random ?? Math.random;
  const sleep = input.sleep ?? abortableSleep;
  let lastId = input.from;
  let runId = input.runId ?? null;
  let failures = 0;
  let ended = 'The connection ended before the answer.';
  for (;;) {
    let received = false;
    try {
      for await (const frame of input.open(lastId, input.signal)) {
        if (frame.id !== '') lastId = frame.id;
        if (failures > 0 && !received) input.onResumed();
        received = true;
        failures = 0;
        const event = frame.data;
        if (event.type === 'stream-error') ended = (event as { detail?: string }).detail ?? ended;
        if (event.type === 'shutdown' || event.type === 'stream-error') break; // this stream ends: resume
        if (event.type === 'run-start' && runId === null && event.run_id) runId = event.run_id;
        if (event.run_id !== undefined && event.run_id !== runId) continue;
        yield event;
        if (event.type === 'run-end' || event.type === 'run-error') return;
      }
    } catch (error) {
      if (input.signal.aborted || lastId === null || isFinal(error)) throw error;
    }
    if (input.signal.aborted) throw input.signal.reason;
    if (lastId === null) throw new Error(ended);
    failures += 1;
    if (failures > policy.attempts) throw new ConnectionLost(policy.attempts);
    const delay = backoffDelay(failures, policy, random());
    input.onReconnecting(failures, delay);
    await sleep(delay, input.signal);
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', stop, { once: true });
  });
}
