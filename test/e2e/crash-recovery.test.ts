import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectInterrupted, startSlowReply } from '../helpers/interrupted-runs.js';
import { startServer } from '../helpers/server-process.js';

let directory: string;
beforeAll(() => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-crash-'));
});
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

it('after kill -9 mid-run, a restart fails the orphaned run, marks the reply interrupted and frees the thread', async () => {
  // Two words a second: the run is still going when the process is killed.
  const env = {
    DATABASE_URL: `sqlite:${path.join(directory, 'parley.db')}`,
    LOG_LEVEL: 'warn',
    DEMO_MODEL_WORDS_PER_SECOND: '2',
    SHUTDOWN_TIMEOUT_MS: '2500',
  };
  const server = await startServer(env);
  const { thread, runId } = await startSlowReply(server, server.key!);
  server.child.kill('SIGKILL');
  await server.exited;

  // SQLite serves one process: the server that starts next knows every running run is dead, and
  // has failed them before it answers.
  const restarted = await startServer(env);
  try {
    await expectInterrupted({ ...thread, base: restarted.baseUrl }, runId);
  } finally {
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toBe(0);
  }
});
