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

  // A SQLite file serves one process, so at start every other process and its runs are dead.
  // PostgreSQL may be shared with live processes: a process is dead once it misses three
  // heartbeats, and this one (like every other) then fails its runs (ADR 0007).
  await parley.liveness.start({ soleProcess: config.database.kind === 'sqlite' });

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
  // The schemas no request has needed yet compile now, a slice per turn of the event loop.
  parley.warmSchemas().catch((error: unknown) => app.log.error({ err: error }, 'a route schema does not compile'));
  if (!config.mcp.oauth.publicUrlConfigured) {
    app.log.info(
      `PUBLIC_URL is not set: MCP sign-ins return to ${config.mcp.oauth.publicUrl}/api/v1/mcp/oauth/callback; set PUBLIC_URL to the address browsers reach this server at`,
    );
  }

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    parley.beginShutdown();
    const deadline = setTimeout(() => {
      app.log.error('shutdown deadline passed; exiting with in-flight work abandoned');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    try {
      // Runs get most of the deadline to finish; what is left is for closing up.
      await parley.shutdown(Math.max(0, config.shutdownTimeoutMs - 2000));
      // The heartbeat went on while runs finished (they are this process's until then).
      await parley.liveness.stop();
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
