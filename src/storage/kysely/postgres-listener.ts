import pg from 'pg';

/** The channel that the jobs table's insert trigger notifies (migration 0025). */
export const JOBS_CHANNEL = 'parley_jobs';

const FIRST_RETRY_MS = 100;
const LONGEST_RETRY_MS = 5000;

export interface NotificationListener {
  /** A notification arrived; `processId` is the backend (connection) whose transaction sent it. */
  onNotification(processId: number): void;
  /**
   * The LISTEN took effect — at first and after each reconnection. Notifications sent while no
   * connection listened are lost, so a caller looks for what it may have missed now.
   */
  onListening(): void;
  /** The connection failed or was lost; it is opened again after a back-off. */
  onError(error: Error): void;
}

export interface Listening {
  /** Ends the connection; no callback is called after it resolves. */
  stop(): Promise<void>;
}

/**
 * One dedicated connection, outside the pools, that LISTENs on `channel` (a pooled connection
 * would be handed to queries, and a session's LISTEN ends with its connection). A connection that
 * fails or is ended by the server (restart, `pg_terminate_backend`) is replaced after a back-off
 * of FIRST_RETRY_MS, doubling up to LONGEST_RETRY_MS while attempts fail.
 */
export function listen(connectionString: string, channel: string, listener: NotificationListener): Listening {
  let stopped = false;
  let client: pg.Client | null = null;
  let retryMs = FIRST_RETRY_MS;
  let timer: NodeJS.Timeout | undefined;
  let connecting: Promise<void> = Promise.resolve();

  const lost = (failed: pg.Client, error: Error) => {
    if (client !== failed) return;
    client = null;
    failed.removeAllListeners('notification');
    void failed.end().catch(() => {});
    if (stopped) return;
    listener.onError(error);
    timer = setTimeout(() => (connecting = open()), retryMs);
    timer.unref();
    retryMs = Math.min(LONGEST_RETRY_MS, retryMs * 2);
  };

  const open = async () => {
    const next = new pg.Client({ connectionString });
    client = next;
    next.on('error', (error) => lost(next, error));
    next.on('end', () => lost(next, new Error('the listening connection was closed')));
    next.on('notification', (message) => {
      if (!stopped && message.channel === channel) listener.onNotification(message.processId);
    });
    try {
      await next.connect();
      // The channel is a constant of ours, not input: quoted as an identifier all the same.
      await next.query(`listen ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      return lost(next, error instanceof Error ? error : new Error(String(error)));
    }
    if (stopped || client !== next) return;
    retryMs = FIRST_RETRY_MS;
    listener.onListening();
  };

  connecting = open();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await connecting;
      const last = client;
      client = null;
      await last?.end().catch(() => {});
    },
  };
}
