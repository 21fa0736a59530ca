import crypto from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createApp, type ParleyApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openStore, type Store } from '../../src/storage/store.js';
import { registryWith, say, scriptedModel } from '../fixtures/scripted-model.js';
import { SUPPORT_TEMPLATE } from '../helpers/ids.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * Two server processes on one database, in one test process, with the heartbeat driven by hand
 * (`tick()`) and a fake monotonic clock: a process that stops beating is dead after three of its
 * intervals, and the other fails its run. The "dead" one is alive all along here, so the test
 * also shows what a process taken for dead does when it finds out.
 */
// Longer than the test runs, so no beat comes from the timers: every beat here is a tick().
const HEARTBEAT_MS = 60_000;

let database: TestDatabase;
let store: Store;
let elapsed = 0;
const logs: string[] = [];
const apps: ParleyApp[] = [];

beforeEach(async () => {
  database = await createTestDatabase();
  store = await openStore(database.target);
  elapsed = 0;
});

afterEach(async () => {
  for (const parley of apps.splice(0)) {
    await parley.shutdown(0);
    await parley.liveness.stop();
  }
  // Every process that stopped cleanly took its row away.
  expect(await store.processes.list()).toEqual([]);
  await store.close();
  await database.destroy();
});

async function serverProcess(models: ReturnType<typeof registryWith>): Promise<ParleyApp> {
  const defaults = loadConfig({});
  const logStream = new PassThrough();
  logStream.on('data', (chunk: Buffer) => logs.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const parley = await createApp({
    config: {
      ...defaults,
      database: database.target,
      runtime: { ...defaults.runtime, processHeartbeatMs: HEARTBEAT_MS },
    },
    store,
    models,
    elapsedMs: () => elapsed,
    logStream,
  });
  apps.push(parley);
  await parley.liveness.start({ soleProcess: false });
  return parley;
}

async function inject(parley: ParleyApp, key: string, method: 'GET' | 'POST', url: string, body?: unknown) {
  const response = await parley.app.inject({
    method,
    url,
    headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  return { status: response.statusCode, body: response.json() };
}

it('a process that stops beating is dead after three of its intervals: another fails its run and frees the thread', async () => {
  // The first call (the victim's run) hangs; the second answers.
  const model = scriptedModel('scripted:liveness', [[{ type: 'hang' }], say('Back again.')]);
  const victim = await serverProcess(registryWith(model));
  const survivor = await serverProcess(registryWith(model));
  const created = await survivor.keys.create({
    organization: { name: `org-${crypto.randomBytes(3).toString('hex')}` },
    userName: 'tester',
    scopes: ['read', 'write', 'admin'],
  });
  const organizationId = created.api_key.organization_id;
  const key = created.key;
  const webhook = await inject(survivor, key, 'POST', '/api/v1/webhooks', {
    url: 'https://hooks.example.test/parley',
    events: ['run.failed', 'execution.failed'],
  });
  expect(webhook.status).toBe(200);
  const agent = await inject(survivor, key, 'POST', '/api/v1/agents', {
    name: 'a',
    configuration: { model: model.id },
    template_id: SUPPORT_TEMPLATE,
  });
  const threadPath = `/api/v1/chat/${agent.body.id}/threads`;
  const threadId = (await inject(survivor, key, 'POST', threadPath, { title: 't' })).body.id as string;
  const started = await victim.runtime.start({
    organizationId,
    agent: (await store.agents.get({ organizationId, id: agent.body.id }))!,
    threadId,
    content: 'hello',
    contentHtml: null,
    metadata: {},
  });
  const status = async () => (await store.runs.get({ organizationId, id: started.runId }))?.status;
  const ask = () =>
    inject(survivor, key, 'POST', `${threadPath}/${threadId}/messages`, { role: 'user', content: 'hi' });

  // The victim beats once: the survivor sees its count move and starts its window over.
  elapsed = HEARTBEAT_MS;
  await victim.liveness.tick();
  await survivor.liveness.tick();
  elapsed = HEARTBEAT_MS + 3 * HEARTBEAT_MS - 1;
  await survivor.liveness.tick();
  expect(await status()).toBe('running');
  expect(await ask()).toMatchObject({ status: 409, body: { code: 'thread_busy' } });

  // Three intervals without a beat: dead. Its row goes, its run is failed and its thread freed.
  elapsed = HEARTBEAT_MS + 3 * HEARTBEAT_MS;
  await survivor.liveness.tick();
  expect(await status()).toBe('failed');
  // The run recovery failed counts in the survivor's run outcome metric, as any failed run.
  const scraped = await survivor.app.inject({ method: 'GET', url: '/metrics' });
  expect(scraped.statusCode).toBe(200);
  expect(scraped.body.split('\n')).toContain('parley_runs_total{outcome="failed",source="chat"} 1');
  const rowsAfterRecovery = (await store.processes.list()).map((row) => row.id);
  expect(rowsAfterRecovery).toHaveLength(1);
  const events = async () =>
    (await store.events.listAfter({ organizationId, threadId, afterSeq: 0, limit: 100 })).map((event) => [
      event.type,
      (event.data as { run_id?: string; error?: { code: string } }).error?.code ?? null,
    ]);
  expect((await events()).slice(-2)).toEqual([
    ['message-end', null],
    ['run-error', 'interrupted'],
  ]);
  // The recovery's transaction published the failure as any failed run does (the outbox rows).
  const deliveries = await store.webhookDeliveries.list({
    organizationId,
    webhookId: webhook.body.id,
    limit: 10,
    offset: 0,
  });
  expect(deliveries.map((delivery) => delivery.event_type).sort()).toEqual(['execution.failed', 'run.failed']);
  expect(deliveries.find((delivery) => delivery.event_type === 'run.failed')!.payload).toMatchObject({
    type: 'run.failed',
    data: { run_id: started.runId, status: 'failed', error: { code: 'interrupted' } },
  });
  const answer = await ask();
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({ role: 'assistant', content: 'Back again.', metadata: { status: 'completed' } });

  // The victim was only stalled. At its next beat it finds its row gone: it stops the run it
  // still had (whose end is not written again) and goes on under a new boot id.
  await victim.liveness.tick();
  expect(await started.completion).toMatchObject({
    status: 'failed',
    error: { code: 'interrupted', message: 'The run was interrupted (its server stopped)' },
    execution: { id: started.runId, status: 'failed' },
    message: { metadata: { status: 'interrupted' } },
  });
  expect(victim.runtime.activeRunCount).toBe(0);
  const runErrors = (await events()).filter(([type]) => type === 'run-error' || type === 'run-end');
  expect(runErrors).toEqual([
    ['run-error', 'interrupted'],
    ['run-end', null],
  ]);
  const rows = (await store.processes.list()).map((row) => row.id);
  expect(rows).toHaveLength(2);
  expect(rows).toContain(rowsAfterRecovery[0]);
  expect(logs.some((line) => line.includes('took this one for dead'))).toBe(true);
});
