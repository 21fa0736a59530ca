import { describe, expect, it } from 'vitest';
import type { RunCompletion } from '../../../src/domain/runs.js';
import type { NewThreadEvent } from '../../../src/domain/thread-events.js';
import { at, countRows, newestFirst, randomId, runInput, type ContractFixture } from './fixtures.js';

/** The store keeps any JSON an event carries; the union only types what the server appends. */
function untypedEvent(type: string, data: Record<string, unknown>): NewThreadEvent {
  return { type, data } as unknown as NewThreadEvent;
}

/** The runtime's tables: the per-thread event log, the one-run-per-thread lease, and runs. */
export function describeRuntimeCases(fixture: ContractFixture): void {
  describe('runtime: event log, run lease, runs', () => {
    it('numbers concurrently appended events without gaps, per thread and organisation', async () => {
      const { store, inspector } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const intruder = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const thread = await fixture.newThread({ organizationId, agentId: agent.id });
      const append = (owner: string, data: Record<string, unknown>) =>
        store.write((writers) =>
          writers.events.append({
            organizationId: owner,
            threadId: thread.id,
            events: [untypedEvent('first', data), untypedEvent('second', {})],
            now: at(1),
          }),
        );
      const appended = await Promise.all(Array.from({ length: 30 }, (_, index) => append(organizationId, { index })));
      const numbers = appended.flatMap((events) => events?.map((event) => event.seq) ?? []);
      expect([...numbers].sort((left, right) => left - right)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      // Each append's two events are consecutive.
      for (const events of appended) expect(events?.[1]?.seq).toBe((events?.[0]?.seq ?? 0) + 1);

      const key = { organizationId, threadId: thread.id };
      expect(await store.events.lastSeq(key)).toBe(60);
      const page = await store.events.listAfter({ ...key, afterSeq: 50, limit: 4 });
      expect(page.map((event) => event.seq)).toEqual([51, 52, 53, 54]);
      expect(page[0]).toEqual({ seq: 51, type: 'first', data: expect.any(Object), created_at: at(1) });
      expect(await append(organizationId, { text: 'مرحبا 🧭 漢字', nested: [1e21, -0.5, null] })).toMatchObject([
        { seq: 61, data: { text: 'مرحبا 🧭 漢字', nested: [1e21, -0.5, null] } },
        { seq: 62 },
      ]);

      // Another organisation neither appends to nor reads this thread's log.
      expect(await append(intruder.organizationId, {})).toBeNull();
      const intruderKey = { organizationId: intruder.organizationId, threadId: thread.id };
      expect(await store.events.lastSeq(intruderKey)).toBeNull();
      expect(await store.events.listAfter({ ...intruderKey, afterSeq: 0, limit: 100 })).toEqual([]);
      expect(await store.events.lastSeq(key)).toBe(62);

      await store.write((writers) => writers.threads.delete({ ...key, agentId: agent.id, id: thread.id }));
      expect(await countRows(inspector, 'thread_events', 'thread_id', thread.id)).toBe(0);
      expect(await store.events.lastSeq(key)).toBeNull();
    });

    it('grants a thread’s run lease to one claimant at a time', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const intruder = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const thread = await fixture.newThread({ organizationId, agentId: agent.id });
      const key = { organizationId, agentId: agent.id, threadId: thread.id };
      const claim = (runId: string, now: string, owner = organizationId) =>
        store.write((writers) =>
          writers.threadRuns.claim({ ...key, organizationId: owner, runId, now, expiresAt: at(60) }),
        );

      const runIds = Array.from({ length: 10 }, () => randomId());
      const claims = await Promise.all(runIds.map((runId) => claim(runId, at(0))));
      expect(claims.filter((outcome) => outcome.outcome === 'claimed')).toEqual([
        { outcome: 'claimed', replacedRunId: null },
      ]);
      expect(claims.filter((outcome) => outcome.outcome === 'busy')).toHaveLength(9);
      const holder = runIds[claims.findIndex((outcome) => outcome.outcome === 'claimed')]!;
      const activeRunId = (owner = organizationId) =>
        store.write((writers) => writers.threadRuns.activeRunId({ organizationId: owner, threadId: thread.id }));
      expect(await activeRunId()).toBe(holder);

      // Another organisation cannot see, claim, renew or release the lease.
      expect(await claim(randomId(), at(120), intruder.organizationId)).toEqual({ outcome: 'missing' });
      expect(await activeRunId(intruder.organizationId)).toBeNull();
      const renew = (runId: string, owner = organizationId) =>
        store.write((writers) =>
          writers.threadRuns.renew({ organizationId: owner, threadId: thread.id, runId, expiresAt: at(90) }),
        );
      expect(await renew(holder, intruder.organizationId)).toBe(false);
      expect(await renew(randomId())).toBe(false);
      expect(await renew(holder)).toBe(true);
      await store.write((writers) =>
        writers.threadRuns.release({ organizationId: intruder.organizationId, threadId: thread.id, runId: holder }),
      );
      expect(await activeRunId()).toBe(holder);

      // A lapsed lease is taken over, naming the run it replaced.
      expect(await claim(randomId(), at(89))).toEqual({ outcome: 'busy' });
      const successor = randomId();
      expect(await claim(successor, at(90))).toEqual({ outcome: 'claimed', replacedRunId: holder });
      await store.write((writers) =>
        writers.threadRuns.release({ organizationId, threadId: thread.id, runId: successor }),
      );
      expect(await activeRunId()).toBeNull();
    });

    it('finds the run holding a thread’s live lease and its run-start, for the owner only', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const intruder = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const thread = await fixture.newThread({ organizationId, agentId: agent.id });
      const key = { organizationId, threadId: thread.id };
      const activeRun = (now: string, owner = organizationId) =>
        store.events.activeRun({ organizationId: owner, threadId: thread.id, now });
      const append = (events: NewThreadEvent[]) =>
        store.write((writers) => writers.events.append({ ...key, events, now: at(1) }));
      const runStart = (runId: string) =>
        untypedEvent('run-start', { run_id: runId, message_id: randomId(), model: 'demo' });
      expect(await activeRun(at(1))).toBeNull();

      const earlier = randomId();
      const current = randomId();
      await append([runStart(earlier), untypedEvent('run-end', { run_id: earlier })]);
      // The claim and the run's start commit together, as open-run.ts does.
      await store.write(async (writers) => {
        await writers.threadRuns.claim({ ...key, agentId: agent.id, runId: current, now: at(2), expiresAt: at(60) });
        await writers.events.append({ ...key, events: [runStart(current)], now: at(2) });
      });
      await append([untypedEvent('message-start', {}), untypedEvent('tool-call-start', {})]);
      expect(await activeRun(at(30))).toEqual({ runId: current, startSeq: 3 });
      expect(await activeRun(at(30), intruder.organizationId)).toBeNull();
      // A lapsed lease is no active run, and neither is a released one.
      expect(await activeRun(at(60))).toBeNull();
      await store.write((writers) => writers.threadRuns.release({ ...key, runId: current }));
      expect(await activeRun(at(30))).toBeNull();
    });

    it('numbers concurrently started runs of one agent without collisions, and refuses another organisation', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const intruder = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const runs = await Promise.all(
        Array.from({ length: 10 }, () =>
          store.write((writers) => writers.runs.insert(runInput({ organizationId, agentId: agent.id }))),
        ),
      );
      expect(runs.map((run) => run!.execution_number).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const refused = await store.write((writers) =>
        writers.runs.insert(runInput({ organizationId: intruder.organizationId, agentId: agent.id })),
      );
      expect(refused).toBeNull();
    });

    it('numbers runs per flow, lists them newest first and keeps them to their organisation', async () => {
      const { store } = fixture;
      const { organizationId } = await fixture.newOrganization();
      const intruder = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const otherAgent = await fixture.newAgent(organizationId);
      const rows = [
        runInput({ organizationId, agentId: agent.id, started_at: at(2) }),
        runInput({ organizationId, agentId: agent.id, started_at: at(1), trigger_type: 'webhook' }),
        runInput({ organizationId, agentId: otherAgent.id, started_at: at(2) }),
        runInput({ organizationId, agentId: agent.id, started_at: at(2), status: 'completed' }),
      ];
      const inserted = await store.write(async (writers) => {
        const runs = [];
        for (const row of rows) runs.push((await writers.runs.insert(row))!);
        return runs;
      });
      expect(inserted.map((run) => run.execution_number)).toEqual([1, 2, 1, 3]);
      expect(await store.runs.get({ organizationId, id: rows[0]!.id })).toEqual(inserted[0]);

      const listed = (await store.flowExecutions.list({ organizationId, limit: 10, offset: 0, cursor: null }))!;
      expect(listed.total).toBe(4);
      const byStartedAt = rows.map((row) => ({ id: row.id, created_at: row.started_at }));
      expect(listed.executions.map((run) => run.id)).toEqual(newestFirst(byStartedAt));
      const filtered = (await store.flowExecutions.list({
        organizationId,
        agentId: agent.id,
        status: 'running',
        limit: 1,
        offset: 1,
        cursor: null,
      }))!;
      expect(filtered.total).toBe(2);
      expect(filtered.executions.map((run) => run.id)).toEqual([rows[1]!.id]);

      const changes: Partial<RunCompletion> = {
        status: 'completed',
        completed_at: at(3),
        duration_ms: 1000,
        updated_at: at(3),
      };
      const intruderKey = { organizationId: intruder.organizationId, id: rows[0]!.id };
      expect(await store.runs.get(intruderKey)).toBeNull();
      const intruderList = { organizationId: intruder.organizationId, limit: 10, offset: 0, cursor: null };
      expect(await store.flowExecutions.list(intruderList)).toEqual({ executions: [], total: 0, hasMore: false });
      expect(await store.write((writers) => writers.runs.update({ ...intruderKey, changes }))).toBeNull();
      expect(await store.runs.get({ organizationId, id: rows[0]!.id })).toEqual(inserted[0]);
      const updated = await store.write((writers) => writers.runs.update({ organizationId, id: rows[0]!.id, changes }));
      expect(updated).toEqual({ ...inserted[0], ...changes });
    });
  });
}
