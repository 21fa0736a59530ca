import { createApp } from '../app.js';
import { ConfigError, type Config } from '../config.js';
import { openStore } from '../storage/store.js';

/**
 * `parley worker`: a process that only runs jobs of the queue (docs/jobs.md) — the same app and
 * configuration as `serve`, built without listening and without taking part in runs' liveness.
 * On SIGTERM or SIGINT it drains (no new claims; running jobs get the shutdown deadline, then
 * their leases are released), closes the database and exits 0.
 */
export async function runWorker(config: Config): Promise<void> {
  if (config.jobs.workerConcurrency < 1) {
    throw new ConfigError('WORKER_CONCURRENCY', 'must be at least 1 for parley worker');
  }
  const store = await openStore(config.database, { postgresPoolSize: config.postgresPoolSize });
  const parley = await createApp({ config, store });
  const { app } = parley;
  // Nothing listens, and the worker's timers do not hold the process open: this does, until the stop.
  const alive = setInterval(() => {}, 60_000);
  app.log.info({ concurrency: config.jobs.workerConcurrency }, 'Parley worker running jobs');

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'worker draining');
    const deadline = setTimeout(() => {
      app.log.error('shutdown deadline passed; exiting with running jobs abandoned');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    try {
      await parley.jobs.stop(Math.max(0, config.shutdownTimeoutMs - 2000));
      await app.close();
      await store.close();
      clearInterval(alive);
      clearTimeout(deadline);
      process.exit(0);
    } catch (error) {
      app.log.error({ err: error }, 'worker shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
