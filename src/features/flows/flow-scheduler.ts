import { CronExpressionParser } from 'cron-parser';
import type { FastifyBaseLogger } from 'fastify';
import { DEFAULT_RETRY, DEFAULT_TIMEOUT_SECONDS, type Flow } from '../../domain/flows.js';
import type { Clock, IdGenerator } from '../../ids.js';
import type { DueSchedule } from '../../storage/kysely/flow-schedules-store.js';
import type { Store } from '../../storage/store.js';
import { enqueueFlowExecution, type FlowExecutionRequest } from './flow-enqueue.js';
import { checkVariables, withDefaults } from './flow-variables.js';

/** Schedules one query selects; a full batch is followed by another, up to MAX_BATCHES_PER_TICK. */
export const SCHEDULE_BATCH = 100;
const MAX_BATCHES_PER_TICK = 10;

/**
 * The slot a due schedule fires at `now` and the one it waits for next. Catch-up policy: of the
 * slots missed while no process ticked, only the latest (at or before `now`) fires — one
 * execution, never a storm; the next is the first slot after `now`. Times are the cron's in the
 * schedule's IANA timezone (a daily 09:00 Europe/Paris is 08:00 UTC in winter, 07:00 in summer).
 */
export function slotTimes(schedule: Pick<DueSchedule, 'cron' | 'timezone' | 'next_run_at'>, now: Date) {
  const parse = (currentDate: Date) =>
    CronExpressionParser.parse(schedule.cron, { tz: schedule.timezone, currentDate });
  // prev() is strictly before its start: one millisecond past now includes a slot at now itself.
  const latest = parse(new Date(now.getTime() + 1))
    .prev()
    .toDate();
  const due = new Date(schedule.next_run_at);
  return { slotAt: latest > due ? latest : due, nextAt: parse(now).next().toDate() };
}

/**
 * Fires flow schedules (docs/flows.md#schedules) in every process that runs jobs: every
 * `FLOW_SCHEDULER_INTERVAL_MS` it selects the schedules due, and fires each in one transaction —
 * advance `next_run_at` (only while still due), claim the slot (the primary key of
 * `flow_schedule_slots` admits one claim across processes), enqueue the slot's execution. Two
 * schedulers on one database therefore give each slot exactly one execution; a schedule that
 * was replaced or deleted has no row left to advance, so its old slots never fire.
 */
export class FlowScheduler {
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<unknown> | null = null;
  #stopped = false;

  constructor(
    private readonly input: {
      store: Store;
      clock: Clock;
      newId: IdGenerator;
      /** JOB_MAX_ATTEMPTS: interruptions of an execution's job before it fails. */
      maxAttempts: number;
      intervalMs: number;
      /** After executions were enqueued: this process's idle worker claims at once. */
      wake(): void;
      log: FastifyBaseLogger;
    },
  ) {}

  /** Ticks at once (slots missed while the process was down), then every interval. */
  start(): void {
    if (this.#timer || this.#stopped) return;
    this.#run();
    this.#timer = setInterval(() => this.#run(), this.input.intervalMs);
    this.#timer.unref();
  }

  /** No tick starts after this; a tick in flight finishes first. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#ticking;
  }

  /** One tick: fires every schedule due now; returns how many executions it enqueued. */
  async tick(): Promise<number> {
    const now = this.input.clock.now();
    let fired = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_TICK; batch += 1) {
      const due = await this.input.store.flowSchedules.due({ now: now.toISOString(), limit: SCHEDULE_BATCH });
      for (const schedule of due) if (await this.#fireLogged(schedule, now)) fired += 1;
      if (due.length < SCHEDULE_BATCH) break;
    }
    if (fired > 0) this.input.wake();
    return fired;
  }

  #run(): void {
    if (this.#ticking || this.#stopped) return;
    this.#ticking = this.tick()
      .catch((error: unknown) => this.input.log.error({ err: error }, 'flow scheduler: tick failed'))
      .finally(() => (this.#ticking = null));
  }

  /** One schedule's failure (logged) does not keep the others from firing. */
  async #fireLogged(schedule: DueSchedule, now: Date): Promise<boolean> {
    try {
      return await this.#fire(schedule, now);
    } catch (error) {
      this.input.log.error({ err: error, scheduleId: schedule.id }, 'flow scheduler: firing a schedule failed');
      return false;
    }
  }

  /** True when this call enqueued the slot's execution. */
  async #fire(schedule: DueSchedule, now: Date): Promise<boolean> {
    const { store, newId, log } = this.input;
    const organizationId = schedule.organization_id;
    const { slotAt, nextAt } = slotTimes(schedule, now);
    const stamp = now.toISOString();
    return store.write(async (writers) => {
      const advance = { organizationId, id: schedule.id, dueBy: stamp, next: nextAt.toISOString() };
      // Gone, or another process fired it: nothing to do.
      if (!(await writers.flowSchedules.advance(advance))) return false;
      const flow = await writers.flows.get({ organizationId, id: schedule.flow_id });
      if (!flow) return false;
      // The flow's variables may have changed since the schedule was saved (a PUT without schedules).
      const issues = checkVariables(flow.variables, schedule.variables, ['schedule', 'variables']);
      if (issues.length > 0) {
        log.warn(
          { scheduleId: schedule.id, issues },
          'flow scheduler: skipped a slot, its variables no longer fit the flow',
        );
        return false;
      }
      const id = newId();
      const slot = {
        organizationId,
        scheduleId: schedule.id,
        slotAt: slotAt.toISOString(),
        executionId: id,
        now: stamp,
      };
      if (!(await writers.flows.claimScheduleSlot(slot))) return false;
      const request = slotExecution({ flow, schedule, slotAt: slot.slotAt, now, maxAttempts: this.input.maxAttempts });
      const execution = await enqueueFlowExecution(writers, { ...request, id, newId });
      return execution !== null;
    });
  }
}

/**
 * A slot's execution, as `POST /flows/execute` would make it with the flow's defaults: trigger
 * `scheduled` with the slot in `trigger_data`, the schedule's variables (defaults filled in), due now.
 */
function slotExecution(input: {
  flow: Flow;
  schedule: DueSchedule;
  slotAt: string;
  now: Date;
  maxAttempts: number;
}): Omit<FlowExecutionRequest, 'newId'> {
  const { flow, schedule, now } = input;
  return {
    organizationId: schedule.organization_id,
    flow,
    triggerType: 'scheduled',
    triggerData: { schedule_id: schedule.id, slot_at: input.slotAt, cron: schedule.cron },
    variables: withDefaults(flow.variables, schedule.variables),
    priority: flow.priority ?? 'normal',
    runAfter: now,
    now,
    timeoutSeconds: flow.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS,
    retry: flow.retry_config ?? DEFAULT_RETRY,
    metadata: {},
    maxAttempts: input.maxAttempts,
  };
}
