import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  ConnectionLost,
  DEFAULT_RETRY,
  resumableRun,
  type RunEvent,
  type StreamFrame,
} from '../../web/widget/src/resume.js';

/** The chat widget's stream resume (web/widget/src/resume.ts) against scripted streams. */

type Event = RunEvent & { delta?: string };
type Step = StreamFrame<Event>[] | { frames: StreamFrame<Event>[]; thenThrow: unknown } | { throws: unknown };

const frame = (id: string, type: string, extra: Partial<Event> = {}): StreamFrame<Event> => ({
  id,
  data: { type, ...extra },
});
const REPLY = [
  frame('3', 'message-start', { run_id: null as unknown as string }),
  frame('4', 'run-start', { run_id: 'r1' }),
  frame('4.1', 'text-delta', { run_id: 'r1', delta: 'Hello ' }),
  frame('4.2', 'text-delta', { run_id: 'r1', delta: 'world' }),
  frame('5', 'run-end', { run_id: 'r1' }),
];

/** Runs `resumableRun` over one scripted stream per `open`; records opens, waits and callbacks. */
async function run(steps: Step[], from: string | null = null, signal = new AbortController().signal) {
  const opened: (string | null)[] = [];
  const log: string[] = [];
  const events: Event[] = [];
  let error: unknown = null;
  const generator = resumableRun<Event>({
    from,
    signal,
    open: async function* (lastId) {
      opened.push(lastId);
      const step = steps.shift();
      if (step === undefined) throw new Error('no more scripted streams');
      if ('throws' in step) throw step.throws;
      yield* Array.isArray(step) ? step : step.frames;
      if (!Array.isArray(step)) throw step.thenThrow;
    },
    onReconnecting: (attempt, delay) => log.push(`reconnecting ${attempt} after ${delay}`),
    onResumed: () => log.push('resumed'),
    random: () => 0.5,
    sleep: (ms) => {
      log.push(`wait ${ms}`);
      return Promise.resolve();
    },
  });
  try {
    for await (const event of generator) events.push(event);
  } catch (caught) {
    error = caught;
  }
  const text = events.map((event) => event.delta ?? '').join('');
  return { opened, log, events, text, error };
}

describe('the widget backoff', () => {
  it('doubles from the base up to the cap, half fixed and half jitter', () => {
    const policy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 8_000 };
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, policy, 0))).toEqual([
      250, 500, 1000, 2000, 4000, 4000,
    ]);
    expect([1, 2, 5, 6].map((attempt) => backoffDelay(attempt, policy, 0.999_999))).toEqual([500, 1000, 8000, 8000]);
    expect(backoffDelay(3, policy, 0.5)).toBe(1500);
  });

  it('waits between about 20 and 40 seconds in all by default before giving up', () => {
    const attempts = Array.from({ length: DEFAULT_RETRY.attempts }, (_, index) => index + 1);
    const total = (random: number) =>
      attempts.reduce((sum, attempt) => sum + backoffDelay(attempt, DEFAULT_RETRY, random), 0);
    expect([DEFAULT_RETRY.attempts, total(0), total(0.999_999)]).toEqual([8, 19_750, 39_500]);
  });
});

describe('resuming a reply', () => {
  it('reads an unbroken reply from the POST alone', async () => {
    const result = await run([REPLY]);
    expect(result.opened).toEqual([null]);
    expect(result.text).toBe('Hello world');
    expect(result.events.at(-1)?.type).toBe('run-end');
    expect(result.log).toEqual([]);
  });

  it('follows from the last id after the connection drops mid-reply, with nothing twice', async () => {
    const cut = { frames: REPLY.slice(0, 3), thenThrow: new TypeError('network error') };
    const result = await run([cut, REPLY.slice(3)]);
    expect(result.opened).toEqual([null, '4.1']);
    expect(result.text).toBe('Hello world');
    expect(result.log).toEqual(['reconnecting 1 after 375', 'wait 375', 'resumed']);
    expect(result.error).toBeNull();
  });

  it('reconnects on the server’s shutdown notice and on a stream that just ends', async () => {
    const shutdown = [...REPLY.slice(0, 2), frame('4', 'shutdown')];
    const result = await run([shutdown, REPLY.slice(2, 3), REPLY.slice(3)]);
    expect(result.opened).toEqual([null, '4', '4.1']);
    expect(result.text).toBe('Hello world');
    expect(result.events.map((event) => event.type)).not.toContain('shutdown');
  });

  it('leaves out the events of another run on the thread stream', async () => {
    const other = [frame('6', 'run-start', { run_id: 'r2' }), frame('6.1', 'text-delta', { run_id: 'r2', delta: 'X' })];
    const result = await run([REPLY.slice(0, 3), [...other, ...REPLY.slice(3)]]);
    expect(result.text).toBe('Hello world');
    expect(result.events.filter((event) => event.type === 'run-start')).toEqual([{ type: 'run-start', run_id: 'r1' }]);
  });

  it('follows a reply from a stored resume point (a reload), taking the first run it meets', async () => {
    const result = await run([REPLY.slice(1)], '3');
    expect(result.opened).toEqual(['3']);
    expect(result.text).toBe('Hello world');
  });

  it('counts failed reconnections, and starts counting again after an event', async () => {
    const down = { throws: new TypeError('connection refused') };
    const unavailable = { throws: Object.assign(new Error('restarting'), { status: 503 }) };
    const result = await run([REPLY.slice(0, 3), down, unavailable, REPLY.slice(3, 4), down, REPLY.slice(4)]);
    expect(result.text).toBe('Hello world');
    expect(result.log.filter((line) => line.startsWith('reconnecting'))).toEqual([
      'reconnecting 1 after 375',
      'reconnecting 2 after 750',
      'reconnecting 3 after 1500',
      'reconnecting 1 after 375',
      'reconnecting 2 after 750',
    ]);
  });

  it('gives up after the policy’s attempts with ConnectionLost', async () => {
    const down = { throws: new TypeError('connection refused') };
    const result = await run([REPLY.slice(0, 3), ...Array.from({ length: 9 }, () => down)]);
    expect(result.error).toBeInstanceOf(ConnectionLost);
    expect(result.opened).toEqual([null, ...Array.from({ length: 8 }, () => '4.1')]);
    expect(result.log.filter((line) => line.startsWith('reconnecting'))).toHaveLength(8);
    expect((result.error as Error).message).toBe(
      'The connection was lost. The reply is kept: reload the page to see it.',
    );
  });

  it('does not retry a final answer (404), nor a drop before any event id', async () => {
    const gone = Object.assign(new Error('Thread not found.'), { status: 404 });
    const final = await run([REPLY.slice(0, 3), { throws: gone }]);
    expect(final.error).toBe(gone);
    expect(final.opened).toEqual([null, '4.1']);
    const early = await run([[]]);
    expect((early.error as Error).message).toBe('The connection ended before the answer.');
    expect(early.opened).toEqual([null]);
  });

  it('stops at once when aborted, without reconnecting', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    const result = await run(
      [{ frames: REPLY.slice(0, 3), thenThrow: new TypeError('aborted') }],
      null,
      controller.signal,
    );
    expect(result.error).toBeInstanceOf(TypeError);
    expect(result.opened).toEqual([null]);
  });
});
