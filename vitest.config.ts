import os from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The PostgreSQL run of the storage contract, its group commit and crash tests need a server,
    // which CI names in PARLEY_TEST_POSTGRES_URL. Without it the files are left out: vitest
    // fails a file that registers no tests, and a skipped suite would only add noise.
    // The cluster suite (three processes, PostgreSQL, Redis, nginx) always uses PostgreSQL, so it
    // runs once, in the default pass, and is left out of the PostgreSQL pass.
    exclude: [
      ...configDefaults.exclude,
      ...(process.env.PARLEY_TEST_POSTGRES_URL
        ? []
        : [
            'test/storage/postgres.contract.test.ts',
            'test/storage/postgres-group-commit.test.ts',
            'test/storage/job-queue-notify.test.ts',
            'test/storage/postgres-batched-creates.test.ts',
            'test/e2e/crash-recovery-postgres.test.ts',
            'test/e2e/job-queue-notify-postgres.test.ts',
            'test/cluster/**',
          ]),
      ...(process.env.PARLEY_TEST_DATABASE === 'postgres' ? ['test/cluster/**'] : []),
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the CPUs: a single worker on a 2-core machine,
    // where most files wait on child servers, PostgreSQL or a browser rather than on the CPU.
    // Two workers took the whole run from ~18 to ~12.5 minutes there (load average 10–15 from
    // other work at the time).
    maxWorkers: Math.max(2, os.availableParallelism() - 1),
  },
});
