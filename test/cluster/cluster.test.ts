import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newThread, startCluster, type Cluster } from '../helpers/cluster.js';
import { expectInterrupted } from '../helpers/interrupted-runs.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import {
  expectStoredMatchesStream,
  httpJson,
  isDelta,
  SseConnection,
  threadPath,
  type SseEvent,
  type ThreadRef,
} from '../helpers/sse-client.js';

/**
 * Issue 14: three `parley serve` processes on one PostgreSQL database and one Redis (a private
 * redis-server, so restarting it touches nothing else), behind Debian's nginx running the shipped
 * server block. The suite always uses PostgreSQL, so it runs in the default pass and not again
 * in the PostgreSQL pass: vitest.config.ts decides where it runs (a file that registers no test
 * fails).
 */
const REPLY_TIMEOUT_MS = 30_000;
const ended = (event: SseEvent) => event.event === 'run-end' || event.event === 'run-error';
const durableIds = (events: SseEvent[]) => events.filter((event) => event.id !== undefined).map((event) => event.id);

function postStream(base: string, thread: ThreadRef, content = 'hello'): Promise<SseConnection> {
  return SseConnection.open(`${base}${threadPath(thread)}/messages/stream`, {
    key: thread.key,
    body: { role: 'user', content },
  });
}

function follow(base: string, thread: ThreadRef, lastEventId?: string): Promise<SseConnection> {
  return SseConnection.open(`${base}${threadPath(thread)}/stream`, {
    key: thread.key,
    headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
  });
}

async function firstDeltas(connection: SseConnection, count: number): Promise<SseEvent[]> {
  let seen = 0;
  return connection.readUntil((event) => isDelta(event) && ++seen >= count, REPLY_TIMEOUT_MS);
}

describe('three processes on one PostgreSQL and one Redis behind nginx', () => {
  let redis: RedisServer;
  let cluster: Cluster;
  const at = (index: number) => cluster.processes[index]!.baseUrl;

  beforeAll(async () => {
    redis = await startRedis();
    cluster = await startCluster({
      size: 3,
      env: { REDIS_URL: redis.url, DEMO_MODEL_WORDS_PER_SECOND: '15' },
    });
  }, 180_000);

  afterAll(async () => {
    await cluster?.destroy();
    await redis?.stop();
  }, 90_000);

  it('a thread created on one process, a message posted on another, followed on the third and through nginx: the same events', async () => {
    const thread = await newThread(at(0), cluster.key);
    const onThird = await follow(at(2), thread);
    const throughProxy = await follow(cluster.baseUrl, thread);
    expect([onThird.status, throughProxy.status]).toEqual([200, 200]);
    const poster = await postStream(at(1), thread);
    const posted = await poster.readUntil(ended, REPLY_TIMEOUT_MS);
    expect(posted.at(-1)!.event).toBe('run-end');
    const followed = await onThird.readUntil(ended, REPLY_TIMEOUT_MS);
    const proxied = await throughProxy.readUntil(ended, REPLY_TIMEOUT_MS);
    onThird.abort();
    throughProxy.abort();
    expect(durableIds(followed)).toEqual(durableIds(posted));
    expect(durableIds(proxied)).toEqual(durableIds(posted));
    await expectStoredMatchesStream({ ...thread, base: at(2) }, followed);
  });

  it('a stream dropped on one process resumes from Last-Event-ID on another: every event once, in order', async () => {
    const thread = await newThread(cluster.baseUrl, cluster.key);
    const poster = await postStream(at(0), thread);
    const before = await firstDeltas(poster, 3);
    poster.abort();
    const resumed = await follow(at(1), thread, before.at(-1)!.id);
    expect(resumed.status).toBe(200);
    const after = await resumed.readUntil(ended, REPLY_TIMEOUT_MS);
    resumed.abort();
    const all = [...before, ...after];
    expect(new Set(durableIds(all)).size).toBe(durableIds(all).length);
    await expectStoredMatchesStream({ ...thread, base: at(1) }, all);
  });

  it('a cancel sent to a process that does not own the run stops it', async () => {
    const thread = await newThread(cluster.baseUrl, cluster.key);
    const poster = await postStream(at(0), thread);
    const start = await poster.readUntil((event) => event.event === 'run-start', REPLY_TIMEOUT_MS);
    const runId = start.at(-1)!.data.run_id as string;
    await firstDeltas(poster, 1);
    const cancel = await httpJson(at(2), cluster.key, 'POST', `${threadPath(thread)}/runs/${runId}/cancel`);
    expect(cancel.status).toBe(200);
    const rest = await poster.readUntil(ended, REPLY_TIMEOUT_MS);
    expect(rest.at(-1)).toMatchObject({ event: 'run-end', data: { run_id: runId, status: 'cancelled' } });
    const execution = await httpJson(at(1), cluster.key, 'GET', `/api/v1/flows/executions/${runId}`);
    expect(execution.body.status).toBe('cancelled');
  });

  it('kill -9 of the process that owns a run mid-reply: a follower on another process sees it end as interrupted', async () => {
    const thread = await newThread(cluster.baseUrl, cluster.key);
    const follower = await follow(at(1), thread);
    const poster = await postStream(at(0), thread);
    const start = await poster.readUntil((event) => event.event === 'run-start', REPLY_TIMEOUT_MS);
    const runId = start.at(-1)!.data.run_id as string;
    await firstDeltas(poster, 2);
    await cluster.kill(0);
    const seen = await follower.readUntil(ended, REPLY_TIMEOUT_MS);
    follower.abort();
    expect(seen.at(-1)).toMatchObject({
      event: 'run-error',
      data: { run_id: runId, error: { code: 'interrupted' } },
    });
    await expectInterrupted({ ...thread, base: at(1) }, runId);
    await cluster.restart(0);
  }, 60_000);

  it('a rolling restart (SIGTERM, one process at a time) under creates and streams: no failed request, no stream cut without a shutdown notice, every stream finished', async () => {
    const load = startLoad(cluster);
    for (let index = 0; index < 3; index++) {
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(await cluster.stop(index)).toBe(0);
      await cluster.restart(index);
    }
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    expect(result.creates).toBeGreaterThan(20);
    expect(result.streams).toBeGreaterThan(3);
    expect(result.resumed).toBeGreaterThan(0);
  }, 120_000);

  it('Redis restarted mid-stream: the follower is told the stream degraded and recovered, the reply completes, and nothing hangs', async () => {
    const thread = await newThread(cluster.baseUrl, cluster.key);
    const follower = await follow(at(2), thread);
    const poster = await postStream(at(1), thread);
    await firstDeltas(poster, 2);
    await redis.stop();
    const during = await httpJson(cluster.baseUrl, cluster.key, 'POST', `/api/v1/chat/${thread.agentId}/threads`, {
      title: 'while Redis is down',
    });
    expect(during.status).toBe(200);
    await redis.start();
    const posted = await poster.readUntil(ended, REPLY_TIMEOUT_MS);
    const followed = await follower.readUntil(
      (event) => event.event === 'live-status' && event.data.state === 'live',
      REPLY_TIMEOUT_MS,
    );
    follower.abort();
    expect(posted.at(-1)!.event).toBe('run-end');
    const states = followed.filter((event) => event.event === 'live-status').map((event) => event.data.state);
    expect(states).toEqual(['degraded', 'live']);
    await expectStoredMatchesStream({ ...thread, base: at(0) }, posted);
  }, 60_000);
});

interface LoadResult {
  creates: number;
  streams: number;
  resumed: number;
  failures: string[];
}

/** Thread creates (4 loops) and streamed replies (3 loops) through nginx until stopped. */
function startLoad(cluster: Cluster): { stop(): Promise<LoadResult> } {
  const result: LoadResult = { creates: 0, streams: 0, resumed: 0, failures: [] };
  let running = true;
  const creates = async () => {
    const thread = await newThread(cluster.baseUrl, cluster.key);
    while (running) {
      const created = await httpJson(cluster.baseUrl, cluster.key, 'POST', `/api/v1/chat/${thread.agentId}/threads`, {
        title: 'load',
      }).catch((error: Error) => ({ status: 0, body: error.message }));
      if (created.status === 200) result.creates++;
      else result.failures.push(`create: ${created.status} ${JSON.stringify(created.body)}`);
    }
  };
  const streams = async () => {
    while (running) {
      const thread = await newThread(cluster.baseUrl, cluster.key);
      const failure = await oneStreamedReply(cluster, thread, result);
      if (failure === null) result.streams++;
      else result.failures.push(failure);
    }
  };
  const loops = [...Array.from({ length: 4 }, () => creates()), ...Array.from({ length: 3 }, () => streams())].map(
    (loop) => loop.catch((error: Error) => result.failures.push(`loop: ${error.message}`)),
  );
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return result;
    },
  };
}

/** Posts a message through nginx and reads the reply to its end, resuming after a `shutdown` notice. */
async function oneStreamedReply(cluster: Cluster, thread: ThreadRef, result: LoadResult): Promise<string | null> {
  let connection = await postStream(cluster.baseUrl, thread);
  if (connection.status !== 200) return `stream: ${connection.status} ${JSON.stringify(connection.body)}`;
  const events: SseEvent[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    for (;;) {
      const event = await connection.next(REPLY_TIMEOUT_MS);
      if (event === null) return `stream cut without a shutdown notice after ${durableIds(events).at(-1)}`;
      if (event.event === 'shutdown') break;
      events.push(event);
      if (ended(event)) {
        connection.abort();
        if (event.event !== 'run-end') return `reply ended with ${JSON.stringify(event.data)}`;
        await expectStoredMatchesStream({ ...thread, base: cluster.baseUrl }, events);
        return null;
      }
    }
    connection.abort();
    result.resumed++;
    connection = await follow(cluster.baseUrl, thread, events.at(-1)?.id ?? '0');
    if (connection.status !== 200) return `resume: ${connection.status} ${JSON.stringify(connection.body)}`;
  }
  return 'more than 5 shutdown notices for one reply';
}
