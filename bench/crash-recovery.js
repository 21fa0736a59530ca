import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanup, makeTempDir } from './lib/children.js';
import { requestJson } from './lib/http-json.js';
import { apiClient, startParley } from './lib/parley.js';
import { createBenchDatabase } from './lib/postgres.js';

/**
 * `node bench/crash-recovery.js` (after `npm run build`): how long a run whose server was killed
 * (SIGKILL, mid-reply) stays `running` on PostgreSQL, and how long its thread answers 409
 * `thread_busy`, in the two cases of issue 7 (M5):
 *
 * - restart: the only server is killed and a new one is started on the same database; times are
 *   from the moment the new server answers /readyz;
 * - survivor: two servers share the database and the one running the reply is killed; times are
 *   from the kill.
 *
 * Each case runs twice, polling every 100 ms until it sees what it waits for or 120 s pass: once
 * reading only the execution (until it is `failed`), once only posting a new user message to the
 * thread (until it is accepted). They are apart because a message that takes the thread over
 * also fails the run it replaces. Figures are in milliseconds.
 */
const POLL_MS = 100;
const GIVE_UP_MS = 120_000;
const SLOW_DEMO = { DEMO_MODEL_WORDS_PER_SECOND: '2', SHUTDOWN_TIMEOUT_MS: '2500' };

async function startOn(database, directory, name, apiKey) {
  return startParley({
    name,
    databaseFile: path.join(directory, `${name}.unused`),
    env: { DATABASE_URL: database.url, ...SLOW_DEMO },
    ...(apiKey ? { apiKey } : {}),
  });
}

/** Starts a reply on a fresh thread of `parley` and resolves with its run id once text streams. */
async function startReply(parley) {
  const api = apiClient(parley);
  const agent = await api.createAgent({});
  const thread = await api.createThread(agent.id);
  const route = `/api/v1/chat/${agent.id}/threads/${thread.id}`;
  const response = await fetch(`${parley.baseUrl}${route}/messages/stream`, {
    method: 'POST',
    headers: { ...api.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'user', content: 'hello there, tell me something long' }),
  });
  const reader = response.body.getReader();
  let received = '';
  while (!received.includes('event: text-delta')) received += new TextDecoder().decode((await reader.read()).value);
  const runId = /"run_id":"([0-9a-f-]{36})"/.exec(received)[1];
  return { runId, route, stream: reader };
}

/** Milliseconds from `from` until `done()` is true (polled), or null after GIVE_UP_MS. */
async function timeUntil(from, done) {
  while (Date.now() < from + GIVE_UP_MS) {
    if (await done()) return Date.now() - from;
    await sleep(POLL_MS);
  }
  return null;
}

function runFailed(observer, reply) {
  const url = `${observer.baseUrl}/api/v1/flows/executions/${reply.runId}`;
  return async () => (await requestJson({ url, headers: { 'x-api-key': observer.apiKey } })).json?.status === 'failed';
}

function threadAccepts(observer, reply) {
  return async () => {
    // The streaming route answers once the run has started (the other waits for the reply); a
    // 409 stores nothing.
    const sent = await fetch(`${observer.baseUrl}${reply.route}/messages/stream`, {
      method: 'POST',
      headers: { 'x-api-key': observer.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'user', content: 'again' }),
    });
    await sent.body?.cancel();
    if (sent.status !== 200 && sent.status !== 409) throw new Error(`a new message answered ${sent.status}`);
    return sent.status === 200;
  };
}

async function restartCase(directory, watch) {
  const database = await createBenchDatabase();
  try {
    const first = await startOn(database, directory, 'first');
    const reply = await startReply(first);
    first.handle.child.kill('SIGKILL');
    await first.handle.exit;
    const restarted = await startOn(database, directory, 'restarted', first.apiKey);
    return await timeUntil(Date.now(), watch(restarted, reply));
  } finally {
    await cleanup();
    await database.drop();
  }
}

async function survivorCase(directory, watch) {
  const database = await createBenchDatabase();
  try {
    const victim = await startOn(database, directory, 'victim');
    const survivor = await startOn(database, directory, 'survivor', victim.apiKey);
    const reply = await startReply(victim);
    victim.handle.child.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.handle.exit;
    return await timeUntil(killedAt, watch(survivor, reply));
  } finally {
    await cleanup();
    await database.drop();
  }
}

try {
  const figures = {};
  for (const [name, runCase] of Object.entries({ restart: restartCase, survivor: survivorCase })) {
    figures[name] = {
      runFailedMs: await runCase(makeTempDir('parley-crash-bench-'), runFailed),
      threadAcceptsMs: await runCase(makeTempDir('parley-crash-bench-'), threadAccepts),
    };
  }
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
} finally {
  await cleanup();
}
