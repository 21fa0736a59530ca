import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, type Flow } from '../../../src/domain/flows.js';
import { enqueueFlowExecution } from '../../../src/features/flows/flow-enqueue.js';
import { at, randomId, type ContractFixture } from './fixtures.js';

/** Flows and their executions' store rules (docs/flows.md, ADR 0029), on every dialect. */

function flowInput(organizationId: string, agentId: string, overrides: Partial<Flow> = {}): Flow {
  return {
    id: randomId(),
    organization_id: organizationId,
    agent_id: agentId,
    name: 'Contract flow',
    description: null,
    instructions: 'Say {{word}} — ünïcode ✓',
    variables: [{ name: 'word', type: 'string', required: true, default: null }],
    tools: ['calculator'],
    output_schema: { type: 'object' },
    timeout_seconds: 60,
    priority: 'high',
    retry_config: null,
    schedules: [{ id: randomId(), cron: '0 9 * * *', timezone: 'Europe/Paris', variables: {}, next_run_at: at(3600) }],
    metadata: { k: 'v' },
    created_at: at(0),
    updated_at: at(0),
    ...overrides,
  };
}

export function describeFlowCases(fixture: ContractFixture): void {
  describe('flows', () => {
    it('round-trips a flow with its schedules, and keeps it within its organisation', async () => {
      const { organizationId } = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const flow = flowInput(organizationId, agent.id);
      expect(await fixture.store.write((writers) => writers.flows.insert(flow))).toEqual(flow);
      expect(await fixture.store.flows.get({ organizationId, id: flow.id })).toEqual(flow);
      const other = await fixture.newOrganization();
      const foreign = { organizationId: other.organizationId, agentId: agent.id, id: flow.id };
      expect(await fixture.store.flows.get(foreign)).toBeNull();
      expect(
        await fixture.store.write((writers) =>
          writers.flows.update({ ...foreign, changes: { name: 'x' }, now: at(1) }),
        ),
      ).toBeNull();
      expect(await fixture.store.write((writers) => writers.flows.delete(foreign))).toBe(false);
      expect(await fixture.store.write((writers) => writers.flows.nextExecutionNumber(foreign))).toBeNull();
      expect((await fixture.store.flows.get({ organizationId, id: flow.id }))?.name).toBe('Contract flow');
    });

    it('numbers concurrent executions of a flow without gaps or repeats', async () => {
      const { organizationId } = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const flow = await fixture.store.write((writers) => writers.flows.insert(flowInput(organizationId, agent.id)));
      const numbers = await Promise.all(
        Array.from({ length: 6 }, () =>
          fixture.store.write((writers) => writers.flows.nextExecutionNumber({ organizationId, id: flow.id })),
        ),
      );
      expect([...numbers].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    });

    it('selects due schedules of every organisation, and advances one only while due, within its organisation', async () => {
      const first = await fixture.newOrganization();
      const second = await fixture.newOrganization();
      const scheduled = async (organizationId: string, nextRunAt: string) => {
        const agent = await fixture.newAgent(organizationId);
        const schedules = [
          { id: randomId(), cron: '* * * * *', timezone: 'UTC', variables: { word: 'x' }, next_run_at: nextRunAt },
        ];
        const flow = flowInput(organizationId, agent.id, { schedules });
        await fixture.store.write((writers) => writers.flows.insert(flow));
        return { organization_id: organizationId, flow_id: flow.id, ...schedules[0]! };
      };
      const early = await scheduled(first.organizationId, at(100));
      const late = await scheduled(second.organizationId, at(200));
      const mine = async (now: string) =>
        (await fixture.store.flowSchedules.due({ now, limit: 1000 })).filter((row) =>
          [early.id, late.id].includes(row.id),
        );
      expect(await mine(at(99))).toEqual([]);
      expect(await mine(at(150))).toEqual([early]);
      expect(await mine(at(200))).toEqual([early, late]);
      const advance = (organizationId: string, dueBy: string) =>
        fixture.store.write((writers) =>
          writers.flowSchedules.advance({ organizationId, id: early.id, dueBy, next: at(300) }),
        );
      expect(await advance(second.organizationId, at(150))).toBe(false);
      expect(await advance(first.organizationId, at(99))).toBe(false);
      const outcomes = await Promise.all([
        advance(first.organizationId, at(150)),
        advance(first.organizationId, at(150)),
      ]);
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      expect(await mine(at(250))).toEqual([late]);
      expect(
        (await fixture.store.flows.get({ organizationId: first.organizationId, id: early.flow_id }))?.schedules[0]
          ?.next_run_at,
      ).toBe(at(300));
    });

    it('claims a schedule slot once, whoever asks concurrently', async () => {
      const { organizationId } = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const flow = await fixture.store.write((writers) => writers.flows.insert(flowInput(organizationId, agent.id)));
      const scheduleId = flow.schedules[0]!.id;
      const claim = (slotAt: string) =>
        fixture.store.write((writers) =>
          writers.flows.claimScheduleSlot({ organizationId, scheduleId, slotAt, executionId: randomId(), now: at(5) }),
        );
      const outcomes = await Promise.all([claim(at(3600)), claim(at(3600)), claim(at(3600))]);
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      expect(await claim(at(7200))).toBe(true);
      // Replacing the schedules removes their slots with them.
      await fixture.store.write((writers) =>
        writers.flows.update({
          organizationId,
          agentId: agent.id,
          id: flow.id,
          changes: { schedules: [] },
          now: at(9),
        }),
      );
      const slots = await fixture.inspector
        .selectFrom('flow_schedule_slots')
        .select('slot_at')
        .where('schedule_id', '=', scheduleId)
        .execute();
      expect(slots).toEqual([]);
    });
    it('writes an execution’s journal only under the fencing token its job holds', async () => {
      const { organizationId } = await fixture.newOrganization();
      const agent = await fixture.newAgent(organizationId);
      const flow = await fixture.store.write((writers) => writers.flows.insert(flowInput(organizationId, agent.id)));
      const execution = (await fixture.store.write((writers) =>
        enqueueFlowExecution(writers, {
          organizationId,
          flow,
          triggerType: 'api',
          triggerData: {},
          variables: { word: 'x' },
          priority: 'normal',
          runAfter: new Date(at(0)),
          now: new Date(at(0)),
          timeoutSeconds: 60,
          retry: DEFAULT_RETRY,
          metadata: {},
          maxAttempts: 3,
          newId: randomId,
        }),
      ))!;
      // A kind of its own, so that this case claims no other case's job.
      const kind = `journal_${randomId()}`;
      await fixture.inspector.updateTable('jobs').set({ kind }).where('id', '=', execution.job_id!).execute();
      const claim = (owner: string, now: number) =>
        fixture.store.write((writers) =>
          writers.jobs.claim({ kinds: [kind], lease: { owner, until: at(now + 10), now: at(now) }, limit: 1 }),
        );
      const [first] = await claim('worker-a', 1);
      const key = { organizationId, id: execution.id };
      await fixture.store.write((writers) =>
        writers.flowExecutions.move({ ...key, from: ['queued'], changes: { status: 'running' } }),
      );
      const write = (token: number, journal: Record<string, unknown>, organization = organizationId) =>
        fixture.store.write((writers) =>
          writers.flowExecutions.journal({
            organizationId: organization,
            id: execution.id,
            attempt: { jobId: first!.id, token },
            journal: journal as never,
            now: at(2),
          }),
        );
      expect(await fixture.store.flowExecutions.journal(key)).toBeNull();
      expect(await write(first!.lease_token, { version: 1, by: 'a ✓' })).toBe(true);
      expect(await fixture.store.flowExecutions.journal(key)).toEqual({ version: 1, by: 'a ✓' });
      expect(
        await write(first!.lease_token, { by: 'elsewhere' }, (await fixture.newOrganization()).organizationId),
      ).toBe(false);
      // The lease lapsed and worker b claimed the job: a's token no longer writes, b's does.
      const [second] = await claim('worker-b', 20);
      expect(second!.lease_token).toBe(first!.lease_token + 1);
      expect(await write(first!.lease_token, { by: 'a, late' })).toBe(false);
      expect(await fixture.store.flowExecutions.journal(key)).toEqual({ version: 1, by: 'a ✓' });
      expect(await write(second!.lease_token, { version: 1, by: 'b' })).toBe(true);
      // Once the job has ended, no token writes.
      await fixture.store.write((writers) =>
        writers.jobs.finish({
          id: second!.id,
          token: second!.lease_token,
          status: 'succeeded',
          errorMessage: null,
          now: at(21),
        }),
      );
      expect(await write(second!.lease_token, { by: 'b, after the end' })).toBe(false);
      expect(await fixture.store.flowExecutions.journal(key)).toEqual({ version: 1, by: 'b' });
    });
  });
}
