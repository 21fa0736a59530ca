import { describe, expect, it } from 'vitest';
import { at, messageInput, randomId, runInput, type ContractFixture } from './fixtures.js';

/** The processes this case registered, as the store lists them (the suite shares one database). */
async function listed(fixture: ContractFixture, ids: string[]) {
  return (await fixture.store.processes.list()).filter((process) => ids.includes(process.id));
}

/**
 * The ids among `runs` that are `ids` (other cases leave running runs of their own in the shared
 * database, which a sweep fails too).
 */
function only(runs: { runId: string }[], ids: string[]): string[] {
  return runs.map((run) => run.runId).filter((id) => ids.includes(id));
}

function register(fixture: ContractFixture, id: string, heartbeatMs = 2000) {
  return fixture.store.write((writers) =>
    writers.processes.register({ id, host: 'host-a', pid: 4242, heartbeatMs, now: at(0) }),
  );
}

/**
 * A running run on a fresh thread, stored as the runtime stores one: the thread's lease held
 * (until `leaseUntil`), the empty reply, the execution under `processId`.
 */
async function runningRun(fixture: ContractFixture, input: { processId: string | null; leaseUntil?: string }) {
  const { organizationId } = await fixture.newOrganization();
  const agent = await fixture.newAgent(organizationId);
  const thread = await fixture.newThread({ organizationId, agentId: agent.id });
  const reply = messageInput({
    organizationId,
    threadId: thread.id,
    role: 'assistant',
    content: '',
    metadata: { status: 'in_progress' },
  });
  const run = runInput({ organizationId, agentId: agent.id, thread_id: thread.id, message_id: reply.id });
  await fixture.store.write(async (writers) => {
    const key = { organizationId, agentId: agent.id, threadId: thread.id, runId: run.id, now: at(0) };
    expect(await writers.threadRuns.claim({ ...key, expiresAt: input.leaseUntil ?? at(3600) })).toEqual({
      outcome: 'claimed',
      replacedRunId: null,
    });
    await writers.messages.insert(reply);
    await writers.runs.insert(run, input.processId);
  });
  const stored = {
    status: async () => (await fixture.store.runs.get({ organizationId, id: run.id }))?.status,
    activeRunId: () =>
      fixture.store.write((writers) => writers.threadRuns.activeRunId({ organizationId, threadId: thread.id })),
  };
  return { organizationId, threadId: thread.id, runId: run.id, replyId: reply.id, ...stored };
}

/** The heartbeat table (migration 0004) and the rules that fail a dead process's runs. */
export function describeProcessCases(fixture: ContractFixture): void {
  describe('server processes: heartbeats and orphaned runs', () => {
    it('registers, beats and removes processes; a row goes only at the count it was seen stuck at, for one caller', async () => {
      const { store } = fixture;
      const [first, second] = [randomId(), randomId()].sort();
      await register(fixture, first!, 2000);
      await register(fixture, second!, 10_000);
      expect(await listed(fixture, [first!, second!])).toEqual([
        { id: first, host: 'host-a', pid: 4242, heartbeatMs: 2000, beats: 0, startedAt: at(0), heartbeatAt: at(0) },
        { id: second, host: 'host-a', pid: 4242, heartbeatMs: 10_000, beats: 0, startedAt: at(0), heartbeatAt: at(0) },
      ]);

      const beat = (id: string, now: string) => store.write((writers) => writers.processes.beat({ id, now }));
      expect(await beat(first!, at(2))).toBe(true);
      expect(await beat(first!, at(4))).toBe(true);
      expect(await beat(randomId(), at(4))).toBe(false);
      expect(await listed(fixture, [first!])).toMatchObject([{ beats: 2, startedAt: at(0), heartbeatAt: at(4) }]);

      // Seen stuck at 1, but it has beaten since: a slow process keeps its row.
      expect(await store.write((writers) => writers.processes.removeDead({ id: first!, beats: 1 }))).toBe(false);
      expect(await listed(fixture, [first!])).toHaveLength(1);
      // Five sweepers find it dead at once: one removes the row.
      const removals = await Promise.all(
        Array.from({ length: 5 }, () =>
          store.write((writers) => writers.processes.removeDead({ id: first!, beats: 2 })),
        ),
      );
      expect(removals.filter(Boolean)).toHaveLength(1);
      expect(await listed(fixture, [first!, second!])).toMatchObject([{ id: second }]);
      // The removed process learns it at its next beat.
      expect(await beat(first!, at(6))).toBe(false);

      await store.write((writers) => writers.processes.remove({ id: second! }));
      expect(await listed(fixture, [first!, second!])).toEqual([]);
    });

    it('fails the running runs of a process without a row once, however many sweep at once, and frees their threads', async () => {
      const { store } = fixture;
      const dead = randomId();
      const alive = randomId();
      await register(fixture, dead);
      await register(fixture, alive);
      const orphan = await runningRun(fixture, { processId: dead });
      const live = await runningRun(fixture, { processId: alive });
      const ours = [orphan.runId, live.runId];
      // Its row is there and its lease live: neither is orphaned yet.
      const early = await store.write((writers) => writers.runs.failOrphaned({ now: at(1) }));
      expect(only(early, ours)).toEqual([]);

      expect(await store.write((writers) => writers.processes.removeDead({ id: dead, beats: 0 }))).toBe(true);
      expect(await store.runs.anyOrphaned({ now: at(1) })).toBe(true);
      const sweeps = await Promise.all(
        Array.from({ length: 5 }, () => store.write((writers) => writers.runs.failOrphaned({ now: at(2) }))),
      );
      const failed = sweeps.flat().filter((run) => ours.includes(run.runId));
      expect(failed.map((run) => run.runId)).toEqual([orphan.runId]);
      expect(failed[0]).toMatchObject({
        organizationId: orphan.organizationId,
        threadId: orphan.threadId,
        reply: {
          id: orphan.replyId,
          role: 'assistant',
          metadata: { run_id: orphan.runId, flow_execution_id: orphan.runId, status: 'interrupted' },
        },
      });
      expect(await store.runs.get({ organizationId: orphan.organizationId, id: orphan.runId })).toMatchObject({
        status: 'failed',
        completed_at: at(2),
        error_message: 'The run was interrupted (its server stopped)',
        error_details: { code: 'interrupted' },
      });
      expect(await orphan.activeRunId()).toBeNull();

      // The live process's run is untouched, and recovery never ends a run twice.
      expect(await live.status()).toBe('running');
      expect(await live.activeRunId()).toBe(live.runId);
      const late = await store.write((writers) =>
        writers.runs.update({
          organizationId: orphan.organizationId,
          id: orphan.runId,
          changes: { status: 'completed', updated_at: at(3) },
          whileRunning: true,
        }),
      );
      expect(late).toBeNull();
      expect(await orphan.status()).toBe('failed');
      await store.write((writers) => writers.processes.remove({ id: alive }));
    });

    it('keeps a run stored before process rows while its lease lives, unless the database serves one process', async () => {
      const { store } = fixture;
      const sole = randomId();
      await register(fixture, sole);
      const legacy = await runningRun(fixture, { processId: null });
      const own = await runningRun(fixture, { processId: sole });
      const lapsed = await runningRun(fixture, { processId: null, leaseUntil: at(10) });

      // Without a process row to go by, the thread lease decides.
      const byLease = await store.write((writers) => writers.runs.failOrphaned({ now: at(10) }));
      const ours = [legacy.runId, own.runId, lapsed.runId];
      expect(only(byLease, ours)).toEqual([lapsed.runId]);
      expect(await legacy.status()).toBe('running');

      // A SQLite file's server at start: every running run but its own is dead.
      const bySole = await store.write((writers) => writers.runs.failOrphaned({ now: at(11), soleProcessId: sole }));
      expect(only(bySole, ours)).toEqual([legacy.runId]);
      expect(await legacy.status()).toBe('failed');
      expect(await own.status()).toBe('running');
      await store.write((writers) => writers.processes.remove({ id: sole }));
    });

    it('fails a named run only while it runs; a failed run can be neither paused nor resumed', async () => {
      const { store } = fixture;
      const run = await runningRun(fixture, { processId: randomId() });
      const key = { organizationId: run.organizationId, id: run.runId };
      const failOnce = () =>
        store.write((writers) => writers.runs.failInterrupted({ now: at(5), ids: [run.runId, randomId()] }));
      expect((await failOnce()).map((failed) => failed.runId)).toEqual([run.runId]);
      expect(await failOnce()).toEqual([]);
      const checkpoint = {
        next_step: 2,
        reply_created_at: at(0),
        text: '',
        usage: { input_tokens: 0, output_tokens: 0 },
        finish_reason: 'tool-calls',
        steps: [],
        transcript: [],
      };
      expect(await store.write((writers) => writers.runs.pause({ ...key, checkpoint, now: at(6) }))).toBe(false);
      const resumed = await store.write((writers) =>
        writers.runs.resume({ ...key, now: at(6), processId: randomId() }),
      );
      expect(resumed).toBe(false);
      expect(await run.status()).toBe('failed');
    });

    it('removes every process row but one (a SQLite file at start)', async () => {
      const { store } = fixture;
      const ids = [randomId(), randomId(), randomId()];
      for (const id of ids) await register(fixture, id);
      const removed = await store.write((writers) => writers.processes.removeAllBut({ keepId: ids[1]! }));
      expect(removed).toBeGreaterThanOrEqual(2);
      expect((await store.processes.list()).map((process) => process.id)).toEqual([ids[1]]);
      await store.write((writers) => writers.processes.remove({ id: ids[1]! }));
    });
  });
}
