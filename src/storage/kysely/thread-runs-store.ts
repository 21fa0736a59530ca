import type { Executor } from './executor.js';

export type RunClaim =
  { outcome: 'claimed'; replacedRunId: string | null } | { outcome: 'busy' } | { outcome: 'missing' };

/**
 * The one-run-per-thread lease. A run holds `active_run_id` until it ends; the lease expiry lets
 * another process take over a thread whose run died with its process.
 */
export class ThreadRunWriter {
  constructor(private readonly db: Executor) {}

  async claim(input: {
    organizationId: string;
    agentId: string;
    threadId: string;
    runId: string;
    now: string;
    expiresAt: string;
  }): Promise<RunClaim> {
    const current = await this.db
      .selectFrom('chat_threads')
      .select(['active_run_id', 'active_run_expires_at'])
      .where('organization_id', '=', input.organizationId)
      .where('agent_id', '=', input.agentId)
      .where('id', '=', input.threadId)
      .executeTakeFirst();
    if (!current) return { outcome: 'missing' };
    const leaseLive =
      current.active_run_id !== null &&
      current.active_run_expires_at !== null &&
      current.active_run_expires_at > input.now;
    if (leaseLive) return { outcome: 'busy' };
    const result = await this.db
      .updateTable('chat_threads')
      .set({ active_run_id: input.runId, active_run_expires_at: input.expiresAt })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.threadId)
      .where((eb) =>
        current.active_run_id === null
          ? eb('active_run_id', 'is', null)
          : eb('active_run_id', '=', current.active_run_id),
      )
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return { outcome: 'busy' };
    return { outcome: 'claimed', replacedRunId: current.active_run_id };
  }

  async renew(input: { organizationId: string; threadId: string; runId: string; expiresAt: string }): Promise<boolean> {
    const result = await this.db
      .updateTable('chat_threads')
      .set({ active_run_expires_at: input.expiresAt })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.threadId)
      .where('active_run_id', '=', input.runId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async release(input: { organizationId: string; threadId: string; runId: string }): Promise<void> {
    await this.db
      .updateTable('chat_threads')
      .set({ active_run_id: null, active_run_expires_at: null })
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.threadId)
      .where('active_run_id', '=', input.runId)
      .execute();
  }

  async activeRunId(input: { organizationId: string; threadId: string }): Promise<string | null> {
    const row = await this.db
      .selectFrom('chat_threads')
      .select('active_run_id')
      .where('organization_id', '=', input.organizationId)
      .where('id', '=', input.threadId)
      .executeTakeFirst();
    return row?.active_run_id ?? null;
  }
}
