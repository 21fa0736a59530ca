import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ModelUsage } from '../models/model-port.js';

/** What the agent runtime counts (chat runs and flows' executions alike); NO_RUNTIME_METRICS counts nothing. */
export interface RuntimeMetrics {
  /**
   * A run ended (completed, failed, cancelled, timeout): counted once, by this process. `source`
   * tells a chat run (a thread's reply) from a flow's execution.
   */
  runEnded(outcome: string, source: RunSource): void;
  /** A tool call ended; `kind` is the tool's ToolKind, `outcome` `ok` or `error`. */
  toolCall(kind: string, outcome: 'ok' | 'error'): void;
  /** One model call's tokens. */
  modelTokens(model: string, usage: ModelUsage): void;
}

/** What a run answers: a thread's message (`chat`) or a flow's execution (`flow`). */
export type RunSource = 'chat' | 'flow';

export const NO_RUNTIME_METRICS: RuntimeMetrics = { runEnded() {}, toolCall() {}, modelTokens() {} };

/** One queue's figures at a scrape: its queued jobs, and when the oldest due one became due. */
export interface QueueFigures {
  queue: string;
  depth: number;
  oldestDueAt: string | null;
}

/** A PostgreSQL pool's connections at a scrape. */
export interface PoolFigures {
  total: number;
  idle: number;
  waiting: number;
}

/** Where the figures read on scrape come from; each is left out when absent. */
export interface ScrapeSources {
  queues?: { read: () => Promise<QueueFigures[]>; now: () => Date };
  sseConnections?: () => number;
  pool?: () => PoolFigures | null;
  /** 1 when the Redis client is ready, 0 otherwise; absent when the process has no Redis client. */
  redisUp?: () => boolean;
}

/** HTTP latencies: from 1 ms to 10 s (a stream's whole life is not a latency and is not recorded). */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Write units per group commit: 1 (no concurrency) up to the writer's cap of 1000. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000];

/**
 * The app's metrics in its own prom-client registry (never the global one: tests build many apps
 * in one process, and two registrations of one name in a registry throw). Counters and
 * histograms are updated where things happen; gauges of state (queues, streams, pool, Redis) are
 * read when scraped. Every name and label is listed in docs/observability.md. Labels carry only
 * bounded values — route templates, never URLs; model ids and tool kinds, never tool names.
 */
export class AppMetrics implements RuntimeMetrics {
  readonly registry = new Registry();
  readonly #http: Histogram<'method' | 'route' | 'status_class'>;
  readonly #runs: Counter<'outcome' | 'source'>;
  readonly #tools: Counter<'kind' | 'outcome'>;
  readonly #tokens: Counter<'model' | 'type'>;
  readonly #batches: Histogram;

  constructor() {
    const registers = [this.registry];
    this.#http = new Histogram({
      name: 'parley_http_request_duration_seconds',
      help: 'Time from a request to its response, by method, route template and status class.',
      labelNames: ['method', 'route', 'status_class'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.#runs = new Counter({
      name: 'parley_runs_total',
      help: 'Agent runs this process ended, by outcome (completed, failed, cancelled, timeout) and source (chat, flow).',
      labelNames: ['outcome', 'source'],
      registers,
    });
    this.#tools = new Counter({
      name: 'parley_tool_calls_total',
      help: 'Tool calls this process ran, by tool kind and outcome (ok, error).',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.#tokens = new Counter({
      name: 'parley_model_tokens_total',
      help: 'Tokens of the model calls of this process, by model and type (input, output).',
      labelNames: ['model', 'type'],
      registers,
    });
    this.#batches = new Histogram({
      name: 'parley_db_group_commit_batch_size',
      help: 'Write units committed together in one transaction (SQLite group commit).',
      buckets: BATCH_BUCKETS,
      registers,
    });
  }

  httpRequest(input: { method: string; route: string; statusCode: number; seconds: number }): void {
    const statusClass = `${Math.floor(input.statusCode / 100)}xx`;
    this.#http.observe({ method: input.method, route: input.route, status_class: statusClass }, input.seconds);
  }

  runEnded(outcome: string, source: RunSource): void {
    this.#runs.inc({ outcome, source });
  }

  toolCall(kind: string, outcome: 'ok' | 'error'): void {
    this.#tools.inc({ kind, outcome });
  }

  modelTokens(model: string, usage: ModelUsage): void {
    this.#tokens.inc({ model, type: 'input' }, usage.inputTokens);
    this.#tokens.inc({ model, type: 'output' }, usage.outputTokens);
  }

  groupCommitBatch(size: number): void {
    this.#batches.observe(size);
  }

  /** Registers the gauges read at each scrape. */
  readOnScrape(sources: ScrapeSources): void {
    const registers = [this.registry];
    if (sources.queues) registerQueueGauges(registers, sources.queues.read, sources.queues.now);
    const { sseConnections, pool, redisUp } = sources;
    if (sseConnections) {
      const gauge: Gauge = new Gauge({
        name: 'parley_sse_connections',
        help: 'Event streams (SSE) this process is sending now.',
        registers,
        collect: () => gauge.set(sseConnections()),
      });
    }
    if (pool) {
      const gauge: Gauge<'state'> = new Gauge({
        name: 'parley_db_pool_connections',
        help: 'PostgreSQL pool connections by state (total, idle) and queries waiting for one (waiting).',
        labelNames: ['state'],
        registers,
        collect: () => {
          const figures = pool();
          if (figures) for (const [state, value] of Object.entries(figures)) gauge.set({ state }, value);
        },
      });
    }
    if (redisUp) {
      const gauge: Gauge = new Gauge({
        name: 'parley_redis_up',
        help: '1 while the Redis client is connected and ready, 0 otherwise.',
        registers,
        collect: () => gauge.set(redisUp() ? 1 : 0),
      });
    }
  }
}

/**
 * Depth and oldest due age per queue (job kind), from one grouped read at each scrape: the
 * registry collects its metrics concurrently, so both gauges await the same read. A queue with no
 * queued job is not listed (its series goes stale, as Prometheus expects of a label set that is
 * gone); a queue whose jobs all wait for later has age 0.
 */
function registerQueueGauges(registers: Registry[], queues: () => Promise<QueueFigures[]>, now: () => Date): void {
  let reading: Promise<void> | null = null;
  const read = () => {
    reading ??= queues()
      .then((figures) => {
        depth.reset();
        age.reset();
        const at = now().getTime();
        for (const figure of figures) {
          depth.set({ queue: figure.queue }, figure.depth);
          const waited = figure.oldestDueAt === null ? 0 : (at - Date.parse(figure.oldestDueAt)) / 1000;
          age.set({ queue: figure.queue }, Math.max(0, waited));
        }
      })
      .finally(() => (reading = null));
    return reading;
  };
  const depth: Gauge<'queue'> = new Gauge({
    name: 'parley_job_queue_depth',
    help: 'Queued jobs of each queue (job kind), due or not.',
    labelNames: ['queue'],
    registers,
    collect: read,
  });
  const age: Gauge<'queue'> = new Gauge({
    name: 'parley_job_queue_oldest_due_age_seconds',
    help: 'How long the oldest due job of each queue has waited to be claimed.',
    labelNames: ['queue'],
    registers,
    collect: read,
  });
}
