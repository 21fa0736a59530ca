import { createApp } from '../app.js';
import type { Config } from '../config.js';
import { openStore } from '../storage/store.js';

/**
 * Runs the server until SIGTERM or SIGINT, then shuts down gracefully: readiness fails and new
 * requests get 503 while in-flight requests and runs finish, then the listener closes, pending writes commit,
 * the database closes, and the process exits 0. A deadline stops a shutdown that hangs.
 */
export async function serve(config: Config): Promise<void> {
  const store = await openStore(config.database, { postgresPoolSize: config.postgresPoolSize });
  const parley = await createApp({ config, store });
  const { app } = parley;

  // SQLite serves one process, so at start every running run is a dead one; with PostgreSQL
  // other processes may own live runs, and only lapsed leases count (checked every minute).
  const orphaned = await parley.runtime.recoverOrphanedRuns({ ignoreLeases: config.database.kind === 'sqlite' });
  if (orphaned > 0) app.log.warn({ runs: orphaned }, 'marked runs interrupted by an earlier stop as failed');
  const sweep = setInterval(() => {
    parley.runtime
      .recoverOrphanedRuns()
      .catch((error: unknown) => app.log.error({ err: error }, 'orphaned-run sweep failed'));
  }, 60_000);
  sweep.unref();

  const bootstrap = await parley.keys.bootstrap();
  if (bootstrap) {
    // Printed once, to the terminal only: the key is not stored anywhere in plain text.
    process.stdout.write(
      [
        '',
        'Parley created the "default" organisation and an admin API key. It is shown only this once:',
        '',
        `  ${bootstrap.key}`,
        '',
        'Use it in the x-api-key header. Create more with: npx parley keys create --org default',
        '',
      ].join('\n') + '\n',
    );
  }

  await app.listen({ port: config.port, host: config.host });
  const where = config.database.kind === 'sqlite' ? `sqlite:${config.database.filename}` : 'postgres';
  app.log.info({ database: where }, `Parley listening on http://${config.host}:${config.port} (docs at /docs)`);

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    parley.beginShutdown();
    clearInterval(sweep);
    const deadline = setTimeout(() => {
      app.log.error('shutdown deadline passed; exiting with in-flight work abandoned');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    try {
      // Runs get most of the deadline to finish; what is left is for closing up.
      await parley.shutdown(Math.max(0, config.shutdownTimeoutMs - 2000));
      await store.close();
      clearTimeout(deadline);
      process.exit(0);
    } catch (error) {
      app.log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
