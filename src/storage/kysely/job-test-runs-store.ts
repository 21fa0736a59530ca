import type { Executor } from './executor.js';

/**
 * `job_test_runs`: written only by the test job kinds (src/jobs/test-job-kinds.ts, registered
 * with `PARLEY_TEST_JOB_KINDS=1`), so crash tests can count how often each job started and
 * completed. Nothing else reads or writes it.
 */
export class JobTestRunsWriter {
  constructor(private readonly db: Executor) {}

  async record(input: {
    jobId: string;
    event: 'start' | 'complete';
    owner: string;
    leaseToken: number;
    now: string;
  }): Promise<void> {
    await this.db
      .insertInto('job_test_runs')
      .values({
        job_id: input.jobId,
        event: input.event,
        owner: input.owner,
        lease_token: input.leaseToken,
        at: input.now,
      })
      .execute();
  }
}
