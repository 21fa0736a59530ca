import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/storage/kysely/database.js';
import { BLANK_TEMPLATE } from '../helpers/ids.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { httpJson } from '../helpers/sse-client.js';
import { createTestDatabase, TEST_DIALECT, type TestDatabase } from '../helpers/test-database.js';

/**
 * Flow executions under kill -9 (real `parley serve` processes; SQLite file, or PostgreSQL under
 * `npm run test:pg`). Each cycle a server gets executions of every kind — due now, `scheduled_at`
 * a little later, timing out, retried after a timeout, cancelled, and the slots of an
 * every-second schedule — while more arrive, and is killed with SIGKILL at a random moment; the
 * next cycle starts a new server on the same database. After the last cycle a server settles
 * everything. Then: every acknowledged execution exists and has ended; an acknowledged cancel
 * stuck; no execution ended twice (its usage-ledger row, written once by the first end, agrees
 * with the execution's own end); a retry chain points at real executions, one retry per failure;
 * each schedule slot has one execution. `FLOWS_SOAK_CYCLES` (npm run test:flows-soak: 20) sets
 * the cycles; 3 by default.
 */

const CYCLES = Number(process.env.FLOWS_SOAK_CYCLES ?? 3);
const FINISHED = ['completed', 'failed', 'cancelled', 'timeout'];

let database: TestDatabase;
let inspector: DatabaseHandle;
const servers: ServerProcess[] = [];

beforeEach(async () => {
  database = await createTestDatabase(TEST_DIALECT);
  inspector = openDatabase(database.target, { postgresPoolSize: 2 });
});
afterEach(async () => {
  for (const server of servers.splice(0)) if (server.child.exitCode === null) server.child.kill('SIGKILL');
  await inspector.close();
  await database.destroy();
});

function environment(): Record<string, string> {
  const target = database.target;
  return {
    DATABASE_URL: target.kind === 'sqlite' ? `sqlite:${target.filename}` : target.connectionString,
    LOG_LEVEL: 'warn',
    WORKER_CONCURRENCY: '16',
    JOB_LEASE_MS: '1000',
    JOB_POLL_MS: '200',
    JOB_MAX_ATTEMPTS: '10',
    FLOW_SCHEDULER_INTERVAL_MS: '100',
    // About two seconds a run: many are mid-run when the server is killed.
    DEMO_MODEL_WORDS_PER_SECOND: '20',
    SHUTDOWN_TIMEOUT_MS: '3000',
  };
}

async function launch(): Promise<ServerProcess> {
  const server = await startServer(environment());
  servers.push(server);
  return server;
}

/** What the servers answered with 200: the executions and the cancels they acknowledged. */
interface Acknowledged {
  executions: Set<string>;
  cancels: Set<string>;
}

const INSTRUCTIONS =
  'Write a short note for the team about the weekly report, the open tickets, the release plan ' +
  'and the next planning meeting, in plain words, so that everyone knows what happens next.';

const RETRY = { max_retries: 2, backoff: 'fixed', initial_delay_ms: 100, max_delay_ms: 1000, retry_on: ['timeout'] };

/** The execute bodies of one cycle: every state an execution can be in at the kill. */
function cycleBodies(flowId: string): Record<string, unknown>[] {
  const later = () => new Date(Date.now() + 300 + Math.floor(Math.random() * 1500)).toISOString();
  return [
    {},
    {},
    { priority: 'high' },
    { scheduled_at: later() },
    { scheduled_at: later() },
    { timeout_seconds: 1 },
    { timeout_seconds: 1, retry_config: RETRY },
    { timeout_seconds: 1, retry_config: RETRY, scheduled_at: later() },
  ].map((body) => ({ flow_id: flowId, trigger_type: 'test', ...body }));
}

async function executeAll(server: ServerProcess, key: string, bodies: Record<string, unknown>[], seen: Acknowledged) {
  const ids: string[] = [];
  for (const body of bodies) {
    const response = await httpJson(server.baseUrl, key, 'POST', '/api/v1/flows/execute', body).catch(() => null);
    if (response?.status === 200) {
      seen.executions.add(response.body.execution.id);
      ids.push(response.body.execution.id);
    }
  }
  return ids;
}

async function cancel(server: ServerProcess, key: string, id: string, seen: Acknowledged): Promise<void> {
  const response = await httpJson(server.baseUrl, key, 'POST', `/api/v1/flows/executions/${id}/cancel`, {}).catch(
    () => null,
  );
  if (response?.status === 200) seen.cancels.add(id);
}

/** Executes and cancels until the server dies: some requests race the kill. */
async function keepBusy(server: ServerProcess, key: string, flowId: string, seen: Acknowledged): Promise<void> {
  for (let round = 0; server.child.exitCode === null && server.child.signalCode === null; round += 1) {
    const [id] = await executeAll(server, key, [{ flow_id: flowId, trigger_type: 'api' }], seen);
    if (id && round % 3 === 0) await cancel(server, key, id, seen);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

async function setUp(server: ServerProcess, key: string) {
  const agent = await httpJson(server.baseUrl, key, 'POST', '/api/v1/agents', {
    name: 'crash agent',
    configuration: { model: 'demo' },
    template_id: BLANK_TEMPLATE,
  });
  expect(agent.status).toBe(200);
  const flowPath = `/api/v1/agents/${agent.body.id}/flows`;
  const flow = await httpJson(server.baseUrl, key, 'POST', flowPath, { name: 'note', instructions: INSTRUCTIONS });
  const scheduled = await httpJson(server.baseUrl, key, 'POST', flowPath, {
    name: 'every second',
    instructions: INSTRUCTIONS,
    schedules: [{ cron: '* * * * * *' }, { cron: '*/2 * * * * *', timezone: 'Europe/Paris' }],
  });
  expect([flow.status, scheduled.status]).toEqual([200, 200]);
  return { flowId: flow.body.id as string, scheduledFlowPath: `${flowPath}/${scheduled.body.id}` };
}

async function executions() {
  return inspector.reader.selectFrom('flow_executions').selectAll().where('job_id', 'is not', null).execute();
}

async function settled(): Promise<Awaited<ReturnType<typeof executions>>> {
  const deadline = Date.now() + 30_000 + CYCLES * 3000;
  while (Date.now() < deadline) {
    const rows = await executions();
    if (rows.every((row) => FINISHED.includes(row.status))) return rows;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const open = (await executions()).filter((row) => !FINISHED.includes(row.status));
  throw new Error(`executions not finished: ${JSON.stringify(open.map((row) => [row.id, row.status]))}`);
}

it(
  `loses no acknowledged execution, ends every one once, over ${CYCLES} kill -9 cycles`,
  async () => {
    const seen: Acknowledged = { executions: new Set(), cancels: new Set() };
    const first = await launch();
    const key = first.key!;
    const { flowId, scheduledFlowPath } = await setUp(first, key);
    let server: ServerProcess | null = first;
    for (let cycle = 0; cycle < CYCLES; cycle += 1) {
      server ??= await launch();
      const ids = await executeAll(server, key, cycleBodies(flowId), seen);
      if (ids[1]) await cancel(server, key, ids[1], seen);
      const busy = keepBusy(server, key, flowId, seen);
      await new Promise((resolve) => setTimeout(resolve, 200 + Math.floor(Math.random() * 1800)));
      // A running one, cancelled: its end races the kill.
      const running = (await executions()).find((row) => row.status === 'running');
      if (running) await cancel(server, key, running.id, seen);
      server.child.kill('SIGKILL');
      await server.exited;
      await busy;
      server = null;
    }
    const last = await launch();
    // The schedules stop firing; what they fired so far settles with the rest.
    const slots = await inspector.reader.selectFrom('flow_schedule_slots').selectAll().execute();
    expect((await httpJson(last.baseUrl, key, 'PUT', scheduledFlowPath, { schedules: [] })).status).toBe(200);
    const settling = Date.now();
    const final = await settled();
    const tally: Record<string, number> = {};
    for (const row of final) tally[row.status] = (tally[row.status] ?? 0) + 1;
    const retries = final.filter((row) => row.parent_execution_id !== null).length;
    const fired = final.filter((row) => row.trigger_type === 'scheduled').length;
    const failures = final
      .filter((row) => row.status === 'failed')
      .map((row) => JSON.parse(row.error_details ?? '{}').code);
    // The soak's figures (docs/flows.md "Tests"): what was exercised, and how long the last server took.
    console.info(
      `flow executions crash: ${CYCLES} cycles, ${final.length} executions ${JSON.stringify(tally)}, ` +
        `${retries} retries, ${fired} scheduled, ${seen.cancels.size} cancels acknowledged, ` +
        `failures ${JSON.stringify(failures)}, settled in ${Date.now() - settling} ms`,
    );
    last.child.kill('SIGTERM');
    expect(await last.exited).toBe(0);
    await checkOutcome(final, seen, slots);
  },
  CYCLES * 15_000 + 60_000,
);

async function checkOutcome(
  final: Awaited<ReturnType<typeof executions>>,
  seen: Acknowledged,
  slots: { schedule_id: string; slot_at: string; execution_id: string }[],
): Promise<void> {
  const byId = new Map(final.map((row) => [row.id, row]));
  expect([...seen.executions].filter((id) => !byId.has(id))).toEqual([]);
  expect(final.filter((row) => !FINISHED.includes(row.status))).toEqual([]);
  expect([...seen.cancels].filter((id) => byId.get(id)?.status !== 'cancelled')).toEqual([]);
  // Every kind of end was reached; `failed` only by too many interruptions (JOB_MAX_ATTEMPTS).
  const failed = final.filter((row) => row.status === 'failed');
  expect(failed.filter((row) => JSON.parse(row.error_details ?? '{}').code !== 'interrupted')).toEqual([]);
  const statuses = new Set(final.map((row) => row.status));
  expect(['completed', 'cancelled', 'timeout'].filter((status) => !statuses.has(status))).toEqual([]);

  // Ended once: the ledger row (first end wins, a second insert does nothing) matches the
  // execution's own end; a second end would have written another completed_at and status.
  const usage = await inspector.reader.selectFrom('run_usage').selectAll().execute();
  const ledger = new Map(usage.map((row) => [row.run_id, row]));
  const ended = final.filter((row) => row.status !== 'cancelled' && ledger.has(row.id));
  for (const row of ended) {
    const entry = ledger.get(row.id)!;
    expect({ id: row.id, status: entry.status, ended_at: entry.ended_at }).toEqual({
      id: row.id,
      status: row.status,
      ended_at: row.completed_at,
    });
  }
  expect(final.filter((row) => row.status === 'completed' && !ledger.has(row.id))).toEqual([]);

  // Retry chains: parents exist, timed out, and have one retry each.
  const children = final.filter((row) => row.parent_execution_id !== null);
  expect(children.length).toBeGreaterThan(0);
  for (const child of children) {
    const parent = byId.get(child.parent_execution_id!);
    expect(parent?.status).toBe('timeout');
    expect(Number(child.retry_count)).toBe(Number(parent!.retry_count) + 1);
  }
  expect(new Set(children.map((row) => row.parent_execution_id)).size).toBe(children.length);

  // One job per execution, finished.
  const jobs = await inspector.reader
    .selectFrom('jobs')
    .select(['subject_id', 'status'])
    .where('kind', '=', 'flow_execution')
    .execute();
  expect(jobs.length).toBe(final.length);
  expect(new Set(jobs.map((job) => job.subject_id))).toEqual(new Set(byId.keys()));
  expect(jobs.filter((job) => job.status === 'queued' || job.status === 'running')).toEqual([]);

  // Schedule slots: each fired once, and each fired slot's execution exists.
  const scheduled = final.filter((row) => row.trigger_type === 'scheduled');
  expect(scheduled.length).toBeGreaterThan(0);
  const slotKeys = scheduled.map((row) => {
    const data = JSON.parse(row.trigger_data) as { schedule_id: string; slot_at: string };
    return `${data.schedule_id} ${data.slot_at}`;
  });
  expect(new Set(slotKeys).size).toBe(scheduled.length);
  expect(slots.filter((slot) => byId.get(slot.execution_id)?.trigger_type !== 'scheduled')).toEqual([]);

  if (TEST_DIALECT === 'sqlite') {
    const check = await sql<{ integrity_check: string }>`PRAGMA integrity_check`.execute(inspector.reader);
    expect(check.rows).toEqual([{ integrity_check: 'ok' }]);
  }
}
