import type { Executor } from './kysely/executor.js';
import { AgentWriter } from './kysely/agents-store.js';
import { AgentToolWriter } from './kysely/agent-tools-store.js';
import { ApiKeyWriter } from './kysely/api-keys-store.js';
import { IdempotencyWriter } from './kysely/idempotency-store.js';
import { McpServerWriter } from './kysely/mcp-servers-store.js';
import { McpOAuthWriter } from './kysely/mcp-oauth-store.js';
import { MessageWriter } from './kysely/messages-store.js';
import { OrganizationWriter } from './kysely/organizations-store.js';
import { ProcessWriter } from './kysely/processes-store.js';
import { ThreadWriter } from './kysely/threads-store.js';
import { EventWriter } from './kysely/events-store.js';
import { FileChunkWriter } from './kysely/file-chunks-store.js';
import { RunMessageWriter } from './kysely/run-messages-store.js';
import { RunWriter } from './kysely/runs-store.js';
import { ThreadRunWriter } from './kysely/thread-runs-store.js';
import { AgentFileWriter } from './kysely/agent-files-store.js';
import { JobWriter } from './kysely/jobs-store.js';
import { JobTestRunsWriter } from './kysely/job-test-runs-store.js';
import { FeedbackWriter } from './kysely/feedback-store.js';
import { VisitorWriter } from './kysely/visitors-store.js';
import { WidgetKeyWriter } from './kysely/widget-keys-store.js';
import { UsageWriter } from './kysely/usage-store.js';
import { QuotaWriter } from './kysely/quotas-store.js';
import { FlowWriter } from './kysely/flows-store.js';
import { FlowScheduleWriter } from './kysely/flow-schedules-store.js';
import { FlowExecutionWriter } from './kysely/flow-executions-store.js';
import { WebhookWriter } from './kysely/webhooks-store.js';
import { WebhookDeliveryWriter } from './kysely/webhook-deliveries-store.js';

/** The writers of one write unit's transaction (`store.write`, src/storage/store.ts). */
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
  webhooks: WebhookWriter;
  webhookDeliveries: WebhookDeliveryWriter;
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
  #webhooks?: WebhookWriter;
  #webhookDeliveries?: WebhookDeliveryWriter;

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
  get webhooks() {
    return (this.#webhooks ??= new WebhookWriter(this.db));
  }
  get webhookDeliveries() {
    return (this.#webhookDeliveries ??= new WebhookDeliveryWriter(this.db));
  }
}

export function bindWriters(transaction: Executor): StoreWriters {
  return new BoundWriters(transaction);
}
