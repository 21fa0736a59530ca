import type { DatabaseTarget } from '../config.js';
import { bindWriters, type StoreWriters } from './store-writers.js';
import type { IdempotencyRecord } from '../domain/models.js';
import { AppError } from '../errors.js';
import { AgentReader } from './kysely/agents-store.js';
import { AgentToolReader } from './kysely/agent-tools-store.js';
import { ApiKeyReader } from './kysely/api-keys-store.js';
import { openDatabase, type DatabaseDiagnostics, type DatabaseHandle } from './kysely/database.js';
import { IdempotencyReader } from './kysely/idempotency-store.js';
import { McpServerReader } from './kysely/mcp-servers-store.js';
import { McpOAuthReader } from './kysely/mcp-oauth-store.js';
import { MessageReader } from './kysely/messages-store.js';
import { MessageSearchReader } from './kysely/message-search-store.js';
import { OrganizationReader } from './kysely/organizations-store.js';
import { ProcessReader } from './kysely/processes-store.js';
import { ThreadReader } from './kysely/threads-store.js';
import { EventReader } from './kysely/events-store.js';
import { FileChunkReader } from './kysely/file-chunks-store.js';
import { RunMessageReader } from './kysely/run-messages-store.js';
import { RunReader } from './kysely/runs-store.js';
import { ToolCallReader } from './kysely/tool-calls-store.js';
import { AgentFileReader } from './kysely/agent-files-store.js';
import { JobReader } from './kysely/jobs-store.js';
import { FeedbackReader } from './kysely/feedback-list-store.js';
import { VisitorReader } from './kysely/visitors-store.js';
import { WebThreadReader } from './kysely/web-threads-store.js';
import { WidgetKeyReader } from './kysely/widget-keys-store.js';
import { UsageReader } from './kysely/usage-store.js';
import { QuotaReader } from './kysely/quotas-store.js';
import { FlowReader } from './kysely/flows-store.js';
import { FlowScheduleReader } from './kysely/flow-schedules-store.js';
import { FlowExecutionReader } from './kysely/flow-executions-store.js';
import { WebhookReader } from './kysely/webhooks-store.js';
import { WebhookDeliveryReader } from './kysely/webhook-deliveries-store.js';
import { JOBS_CHANNEL, type Listening, type NotificationListener } from './kysely/postgres-listener.js';

export type { StoreWriters } from './store-writers.js';

export type { OrphanRules } from './kysely/orphaned-runs.js';
export type { WaitingStatus } from './kysely/runs-store.js';
export type { KeysetCursor, KeysetPosition } from './kysely/keyset-page.js';

/** How long a recorded Idempotency-Key answers replays. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export interface IdempotencyClaim {
  organizationId: string;
  key: string;
  fingerprint: string;
  now: Date;
}

/** The record that answers replays of a claimed key with `body` (status 200), kept 24 hours from `now`. */
export function idempotencyRecord(claim: IdempotencyClaim, body: unknown, now: Date): IdempotencyRecord {
  return {
    organization_id: claim.organizationId,
    key: claim.key,
    fingerprint: claim.fingerprint,
    status_code: 200,
    body,
    created_at: now.toISOString(),
    expires_at: new Date(now.getTime() + IDEMPOTENCY_TTL_MS).toISOString(),
  };
}

export interface WriteOptions<T> {
  idempotency?: IdempotencyClaim | undefined;
  /** What a replay returns, when it must differ from the result (e.g. without a secret). */
  replayBody?: (result: T) => unknown;
}

/**
 * The one entry to storage. Reads go through the readers and see committed data only. Writes go
 * through `store.write(unit)`: the unit gets writers bound to one transaction, and the returned
 * promise settles after that transaction has committed. Every method takes the organisation id:
 * tenant scoping lives here, not in the routes.
 */
export class Store {
  readonly dialect: DatabaseHandle['dialect'];
  readonly organizations: OrganizationReader;
  readonly apiKeys: ApiKeyReader;
  readonly agents: AgentReader;
  readonly threads: ThreadReader;
  readonly messages: MessageReader;
  readonly messageSearch: MessageSearchReader;
  readonly idempotency: IdempotencyReader;
  readonly events: EventReader;
  readonly runs: RunReader;
  readonly runMessages: RunMessageReader;
  readonly processes: ProcessReader;
  readonly agentTools: AgentToolReader;
  readonly toolCalls: ToolCallReader;
  readonly mcpServers: McpServerReader;
  readonly mcpOAuth: McpOAuthReader;
  readonly agentFiles: AgentFileReader;
  readonly jobs: JobReader;
  readonly fileChunks: FileChunkReader;
  readonly feedback: FeedbackReader;
  readonly widgetKeys: WidgetKeyReader;
  readonly visitors: VisitorReader;
  readonly usage: UsageReader;
  readonly quotas: QuotaReader;
  readonly webThreads: WebThreadReader;
  readonly flows: FlowReader;
  readonly flowSchedules: FlowScheduleReader;
  readonly flowExecutions: FlowExecutionReader;
  readonly webhooks: WebhookReader;
  readonly webhookDeliveries: WebhookDeliveryReader;
  readonly #database: DatabaseHandle;

  constructor(database: DatabaseHandle) {
    this.#database = database;
    this.dialect = database.dialect;
    const reader = database.reader;
    this.organizations = new OrganizationReader(reader);
    this.apiKeys = new ApiKeyReader(reader);
    this.agents = new AgentReader(reader);
    this.threads = new ThreadReader(reader);
    this.messages = new MessageReader(reader);
    this.messageSearch = new MessageSearchReader(reader, database.dialect);
    this.idempotency = new IdempotencyReader(reader);
    this.events = new EventReader(reader);
    this.runs = new RunReader(reader);
    this.runMessages = new RunMessageReader(reader);
    this.processes = new ProcessReader(reader);
    this.agentTools = new AgentToolReader(reader);
    this.toolCalls = new ToolCallReader(reader);
    this.mcpServers = new McpServerReader(reader);
    this.mcpOAuth = new McpOAuthReader(reader);
    this.agentFiles = new AgentFileReader(reader);
    this.jobs = new JobReader(reader);
    this.fileChunks = new FileChunkReader(reader, database.dialect);
    this.feedback = new FeedbackReader(reader);
    this.widgetKeys = new WidgetKeyReader(reader);
    this.visitors = new VisitorReader(reader);
    this.usage = new UsageReader(reader);
    this.quotas = new QuotaReader(reader);
    this.webThreads = new WebThreadReader(reader, database.dialect);
    this.flows = new FlowReader(reader);
    this.flowSchedules = new FlowScheduleReader(reader);
    this.flowExecutions = new FlowExecutionReader(reader);
    this.webhooks = new WebhookReader(reader);
    this.webhookDeliveries = new WebhookDeliveryReader(reader);
  }

  /**
   * Runs `unit` in one transaction. With `idempotency`, the response (`replayBody(result)`, or
   * the result itself) is recorded in that same transaction, so a retry after a crash finds
   * either both or neither; a concurrent request that recorded the key first makes this unit
   * fail with 409 `idempotency_key_in_flight` and roll back.
   */
  write<T>(unit: (writers: StoreWriters) => Promise<T>, options: WriteOptions<T> = {}): Promise<T> {
    const { idempotency } = options;
    return this.#database.write(async (transaction) => {
      const writers = bindWriters(transaction);
      const result = await unit(writers);
      if (idempotency) {
        const body = options.replayBody ? options.replayBody(result) : result;
        const recorded = await writers.idempotency.record(idempotencyRecord(idempotency, body, idempotency.now));
        if (!recorded) throw new AppError('idempotency_key_in_flight');
      }
      return result;
    });
  }

  migrate(): Promise<void> {
    return this.#database.migrate();
  }

  ping(): Promise<void> {
    return this.#database.ping();
  }

  /**
   * PostgreSQL: `listener` hears of jobs that other processes enqueued, as their transactions
   * commit (migration 0025); null on SQLite, where only this process enqueues.
   */
  listenForJobs(listener: NotificationListener): Listening | null {
    return this.#database.listenToOthers(JOBS_CHANNEL, listener);
  }

  /** The pool's connections and the group commit's batch sizes, for metrics. */
  get diagnostics(): DatabaseDiagnostics {
    return this.#database.diagnostics;
  }

  close(): Promise<void> {
    return this.#database.close();
  }
}

export async function openStore(target: DatabaseTarget, options: { postgresPoolSize?: number } = {}): Promise<Store> {
  const store = new Store(openDatabase(target, options));
  await store.migrate();
  return store;
}
