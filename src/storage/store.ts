import type { DatabaseTarget } from '../config.js';
import type { IdempotencyRecord } from '../domain/models.js';
import { AppError } from '../errors.js';
import type { Executor } from './kysely/executor.js';
import { AgentReader, AgentWriter } from './kysely/agents-store.js';
import { AgentToolReader, AgentToolWriter } from './kysely/agent-tools-store.js';
import { ApiKeyReader, ApiKeyWriter } from './kysely/api-keys-store.js';
import { openDatabase, type DatabaseHandle } from './kysely/database.js';
import { IdempotencyReader, IdempotencyWriter } from './kysely/idempotency-store.js';
import { McpServerReader, McpServerWriter } from './kysely/mcp-servers-store.js';
import { McpOAuthReader, McpOAuthWriter } from './kysely/mcp-oauth-store.js';
import { MessageReader, MessageWriter } from './kysely/messages-store.js';
import { MessageSearchReader } from './kysely/message-search-store.js';
import { OrganizationReader, OrganizationWriter } from './kysely/organizations-store.js';
import { ProcessReader, ProcessWriter } from './kysely/processes-store.js';
import { ThreadReader, ThreadWriter } from './kysely/threads-store.js';
import { EventReader, EventWriter } from './kysely/events-store.js';
import { FileChunkReader, FileChunkWriter } from './kysely/file-chunks-store.js';
import { RunMessageReader, RunMessageWriter } from './kysely/run-messages-store.js';
import { RunReader, RunWriter } from './kysely/runs-store.js';
import { ThreadRunWriter } from './kysely/thread-runs-store.js';
import { ToolCallReader } from './kysely/tool-calls-store.js';
import { AgentFileReader, AgentFileWriter } from './kysely/agent-files-store.js';
import { JobReader, JobWriter } from './kysely/jobs-store.js';
import { JobTestRunsWriter } from './kysely/job-test-runs-store.js';
import { FeedbackReader } from './kysely/feedback-list-store.js';
import { FeedbackWriter } from './kysely/feedback-store.js';
import { VisitorReader, VisitorWriter } from './kysely/visitors-store.js';
import { WebThreadReader } from './kysely/web-threads-store.js';
import { WidgetKeyReader, WidgetKeyWriter } from './kysely/widget-keys-store.js';
import { UsageReader, UsageWriter } from './kysely/usage-store.js';
import { QuotaReader, QuotaWriter } from './kysely/quotas-store.js';
import { FlowReader, FlowWriter } from './kysely/flows-store.js';
import { FlowScheduleReader, FlowScheduleWriter } from './kysely/flow-schedules-store.js';
import { FlowExecutionReader, FlowExecutionWriter } from './kysely/flow-executions-store.js';

/**
 * The one entry to storage. Reads go through the readers and see committed data only. Writes go
 * through `store.write(unit)`: the unit gets writers bound to one transaction, and the returned
 * promise settles after that transaction has committed. Every method takes the organisation id:
 * tenant scoping lives here, not in the routes.
 */
export interface StoreWriters {
  organizations: OrganizationWriter;
  apiKeys: ApiKeyWriter;
  agents: AgentWriter;
  threads: ThreadWriter;
  messages: MessageWriter;
  idempotency: IdempotencyWriter;
  events: EventWriter;
  runs: RunWriter;
  threadRuns: ThreadRunWriter;
  runMessages: RunMessageWriter;
  processes: ProcessWriter;
  agentTools: AgentToolWriter;
  mcpServers: McpServerWriter;
  mcpOAuth: McpOAuthWriter;
  agentFiles: AgentFileWriter;
  jobs: JobWriter;
  /** Only the test job kinds write it (PARLEY_TEST_JOB_KINDS=1). */
  jobTestRuns: JobTestRunsWriter;
  fileChunks: FileChunkWriter;
  feedback: FeedbackWriter;
  widgetKeys: WidgetKeyWriter;
  visitors: VisitorWriter;
  usage: UsageWriter;
  quotas: QuotaWriter;
  flows: FlowWriter;
  flowSchedules: FlowScheduleWriter;
  flowExecutions: FlowExecutionWriter;
}

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

  close(): Promise<void> {
    return this.#database.close();
  }
}

/**
 * Writers bound to one unit's transaction, made on first use: a unit touches one or two of them,
 * and this runs for every write of every request.
 */
class BoundWriters implements StoreWriters {
  #organizations?: OrganizationWriter;
  #apiKeys?: ApiKeyWriter;
  #agents?: AgentWriter;
  #threads?: ThreadWriter;
  #messages?: MessageWriter;
  #idempotency?: IdempotencyWriter;
  #events?: EventWriter;
  #runs?: RunWriter;
  #threadRuns?: ThreadRunWriter;
  #runMessages?: RunMessageWriter;
  #processes?: ProcessWriter;
  #agentTools?: AgentToolWriter;
  #mcpServers?: McpServerWriter;
  #mcpOAuth?: McpOAuthWriter;
  #agentFiles?: AgentFileWriter;
  #jobs?: JobWriter;
  #jobTestRuns?: JobTestRunsWriter;
  #fileChunks?: FileChunkWriter;
  #feedback?: FeedbackWriter;
  #widgetKeys?: WidgetKeyWriter;
  #visitors?: VisitorWriter;
  #usage?: UsageWriter;
  #quotas?: QuotaWriter;
  #flows?: FlowWriter;
  #flowSchedules?: FlowScheduleWriter;
  #flowExecutions?: FlowExecutionWriter;

  constructor(private readonly db: Executor) {}

  get organizations() {
    return (this.#organizations ??= new OrganizationWriter(this.db));
  }
  get apiKeys() {
    return (this.#apiKeys ??= new ApiKeyWriter(this.db));
  }
  get agents() {
    return (this.#agents ??= new AgentWriter(this.db));
  }
  get threads() {
    return (this.#threads ??= new ThreadWriter(this.db));
  }
  get messages() {
    return (this.#messages ??= new MessageWriter(this.db));
  }
  get idempotency() {
    return (this.#idempotency ??= new IdempotencyWriter(this.db));
  }
  get events() {
    return (this.#events ??= new EventWriter(this.db));
  }
  get runs() {
    return (this.#runs ??= new RunWriter(this.db));
  }
  get threadRuns() {
    return (this.#threadRuns ??= new ThreadRunWriter(this.db));
  }
  get runMessages() {
    return (this.#runMessages ??= new RunMessageWriter(this.db));
  }
  get processes() {
    return (this.#processes ??= new ProcessWriter(this.db));
  }
  get agentTools() {
    return (this.#agentTools ??= new AgentToolWriter(this.db));
  }
  get mcpServers() {
    return (this.#mcpServers ??= new McpServerWriter(this.db));
  }
  get mcpOAuth() {
    return (this.#mcpOAuth ??= new McpOAuthWriter(this.db));
  }
  get agentFiles() {
    return (this.#agentFiles ??= new AgentFileWriter(this.db));
  }
  get jobs() {
    return (this.#jobs ??= new JobWriter(this.db));
  }
  get jobTestRuns() {
    return (this.#jobTestRuns ??= new JobTestRunsWriter(this.db));
  }
  get fileChunks() {
    return (this.#fileChunks ??= new FileChunkWriter(this.db));
  }
  get feedback() {
    return (this.#feedback ??= new FeedbackWriter(this.db));
  }
  get widgetKeys() {
    return (this.#widgetKeys ??= new WidgetKeyWriter(this.db));
  }
  get visitors() {
    return (this.#visitors ??= new VisitorWriter(this.db));
  }
  get usage() {
    return (this.#usage ??= new UsageWriter(this.db));
  }
  get quotas() {
    return (this.#quotas ??= new QuotaWriter(this.db));
  }
  get flows() {
    return (this.#flows ??= new FlowWriter(this.db));
  }
  get flowSchedules() {
    return (this.#flowSchedules ??= new FlowScheduleWriter(this.db));
  }
  get flowExecutions() {
    return (this.#flowExecutions ??= new FlowExecutionWriter(this.db));
  }
}

function bindWriters(transaction: Executor): StoreWriters {
  return new BoundWriters(transaction);
}

export async function openStore(target: DatabaseTarget, options: { postgresPoolSize?: number } = {}): Promise<Store> {
  const store = new Store(openDatabase(target, options));
  await store.migrate();
  return store;
}
