import { INTERRUPTED_ERROR, type InterruptedRun } from '../../domain/runs.js';
import type { Executor } from './executor.js';
import { MessageReader } from './messages-store.js';

/** Which running runs count as dead (see findOrphanedRuns). */
export interface OrphanRules {
  now: string;
  /**
   * The one process the database serves (a SQLite file): every running run that is not its own
   * is dead, whatever its process row or thread lease says.
   */
  soleProcessId?: string | undefined;
}

interface OrphanRow {
  id: string;
  organization_id: string;
  thread_id: string | null;
  message_id: string | null;
}

/**
 * Runs left `running` by a process that died. A run is dead when its process has no row in
 * `server_processes` (it stopped, or was found dead and its row removed: a boot id never comes
 * back), or when its thread lease lapsed or moved on (the only sign for a run stored before
 * process rows existed, and for a run whose thread was taken over). A live process's run has
 * its row and a live lease, so this is safe to ask from any process at any time.
 */
export function findOrphanedRuns(db: Executor, rules: OrphanRules, limit?: number): Promise<OrphanRow[]> {
  const { now, soleProcessId } = rules;
  let query = db
    .selectFrom('flow_executions')
    .leftJoin('chat_threads', 'chat_threads.id', 'flow_executions.thread_id')
    .select([
      'flow_executions.id',
      'flow_executions.organization_id',
      'flow_executions.thread_id',
      'flow_executions.message_id',
    ])
    .where('flow_executions.status', '=', 'running')
    // A flow's execution run by a queue job is recovered by the job's lease (docs/jobs.md).
    .where('flow_executions.job_id', 'is', null)
    .where((eb) =>
      eb.or([
        ...(soleProcessId === undefined
          ? []
          : [eb('flow_executions.process_id', 'is', null), eb('flow_executions.process_id', '!=', soleProcessId)]),
        eb.and([
          eb('flow_executions.process_id', 'is not', null),
          eb.not(
            eb.exists(
              eb
                .selectFrom('server_processes')
                .select('server_processes.id')
                .whereRef('server_processes.id', '=', 'flow_executions.process_id'),
            ),
          ),
        ]),
        eb('chat_threads.id', 'is', null),
        eb('chat_threads.active_run_id', 'is', null),
        eb('chat_threads.active_run_id', '!=', eb.ref('flow_executions.id')),
        eb('chat_threads.active_run_expires_at', '<=', now),
      ]),
    )
    .orderBy('flow_executions.id');
  if (limit !== undefined) query = query.limit(limit);
  return query.execute();
}

/** Fails the orphaned runs (see findOrphanedRuns); returns those this call failed. */
export async function failOrphanedRuns(db: Executor, rules: OrphanRules): Promise<InterruptedRun[]> {
  return failRuns(db, rules.now, await findOrphanedRuns(db, rules));
}

/** Fails the given runs if they are still running (a run whose thread lease was taken over). */
export async function failRunsById(db: Executor, input: { now: string; ids: string[] }): Promise<InterruptedRun[]> {
  if (input.ids.length === 0) return [];
  const runs = await db
    .selectFrom('flow_executions')
    .select(['id', 'organization_id', 'thread_id', 'message_id'])
    .where('id', 'in', input.ids)
    .where('status', '=', 'running')
    .orderBy('id')
    .execute();
  return failRuns(db, input.now, runs);
}

/**
 * Each run is failed only if it is still `running` when its row is updated: of two processes
 * failing one run at once, one updates it and the other (which on PostgreSQL waits for the
 * row lock, then sees the new status) updates nothing, and only the first marks the reply,
 * frees the thread and reports the run, so its end is appended once.
 */
async function failRuns(db: Executor, now: string, runs: OrphanRow[]): Promise<InterruptedRun[]> {
  const failed: OrphanRow[] = [];
  for (const run of runs) {
    const result = await db
      .updateTable('flow_executions')
      .set({
        status: 'failed',
        completed_at: now,
        updated_at: now,
        error_message: INTERRUPTED_ERROR.message,
        error_details: JSON.stringify({ code: INTERRUPTED_ERROR.code }),
        checkpoint: null,
      })
      .where('id', '=', run.id)
      .where('status', '=', 'running')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) continue;
    failed.push(run);
    if (run.message_id !== null) {
      await db
        .updateTable('chat_messages')
        .set({ metadata: JSON.stringify({ run_id: run.id, flow_execution_id: run.id, status: 'interrupted' }) })
        .where('id', '=', run.message_id)
        .where('organization_id', '=', run.organization_id)
        .execute();
    }
    await db
      .updateTable('chat_threads')
      .set({ active_run_id: null, active_run_expires_at: null })
      .where('active_run_id', '=', run.id)
      .execute();
  }
  return withReplies(db, failed);
}

/** The failed runs with their replies as the failure left them (read in the same transaction). */
async function withReplies(db: Executor, runs: OrphanRow[]): Promise<InterruptedRun[]> {
  const interrupted: InterruptedRun[] = [];
  const messages = new MessageReader(db);
  for (const run of runs) {
    const key = { organizationId: run.organization_id, id: run.message_id ?? '' };
    const reply = run.message_id === null ? null : await messages.get(key);
    interrupted.push({ runId: run.id, organizationId: run.organization_id, threadId: run.thread_id, reply });
  }
  return interrupted;
}
