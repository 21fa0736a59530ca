import type { FastifyInstance } from 'fastify';
import type { SseRegistry } from './http/sse-registry.js';
import type { AgentRuntime } from './runtime/run-agent.js';

/**
 * The graceful close of the app (`ParleyApp.shutdown`): streams end, runs finish (or are stopped
 * at the deadline) while the parts `alongside` stop — the job worker drains — then in-flight
 * requests complete and the listener closes.
 */
export async function closeGracefully(input: {
  app: FastifyInstance;
  sse: SseRegistry;
  runtime: AgentRuntime;
  runDeadlineMs: number;
  /** Stopped beside the runs, before the app closes (the job worker drains within the deadline). */
  alongside: readonly { stop(deadlineMs: number): Promise<void> }[];
}): Promise<void> {
  const { app } = input;
  const drainUntil = Date.now() + input.runDeadlineMs;
  // Streams whose request was past the 503 check already get the notice when they open.
  input.sse.shutdown();
  // Keep-alive connections with no request in flight are closed as soon as they are idle; those
  // that finish their request later (replies that waited for a run, ended streams) follow.
  const sweeper = setInterval(() => app.server.closeIdleConnections(), 50);
  try {
    await Promise.all([
      input.runtime.shutdown(input.runDeadlineMs),
      ...input.alongside.map((part) => part.stop(input.runDeadlineMs)),
    ]);
    // The listener stays open while work drains, so a probe of /readyz gets the 503 every
    // request gets now (request-hooks.ts) rather than a refused connection.
    await connectionsDrained(app, drainUntil);
    await closeListener(app);
  } finally {
    clearInterval(sweeper);
  }
}

/** Resolves once no connection is open (every in-flight request answered), or at `until`. */
async function connectionsDrained(app: FastifyInstance, until: number): Promise<void> {
  const openConnections = () =>
    new Promise<number>((resolve) => app.server.getConnections((error, count) => resolve(error ? 0 : count)));
  while (Date.now() < until && (await openConnections()) > 0) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function closeListener(app: FastifyInstance): Promise<void> {
  const closing = app.close();
  app.server.closeIdleConnections();
  let grace: NodeJS.Timeout | undefined;
  try {
    const closedInTime = await Promise.race([
      closing.then(() => true),
      new Promise<boolean>((resolve) => (grace = setTimeout(() => resolve(false), SHUTDOWN_GRACE_MS))),
    ]);
    // What is left is a socket whose request has ended but which Node does not see as idle
    // (seen with ended SSE responses whose client stopped reading): nothing is in flight on it.
    if (!closedInTime) app.server.closeAllConnections();
    await closing;
  } finally {
    clearTimeout(grace);
  }
}

/** After the listener closes, how long requests still in flight get before remaining sockets are closed. */
const SHUTDOWN_GRACE_MS = 1000;
