import crypto from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo, LookupFunction } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { createApp, type ParleyApp } from '../../src/app.js';
import {
  loadConfig,
  type Config,
  type RateLimitsConfig,
  type RuntimeConfig,
  type StreamsConfig,
} from '../../src/config.js';
import type { KnowledgeConfig } from '../../src/config-knowledge.js';
import type { WidgetConfig } from '../../src/config-widget.js';
import type { PricingOverrides } from '../../src/config-pricing.js';
import type { JobsConfig } from '../../src/config-jobs.js';
import type { LiveConfig } from '../../src/config-live.js';
import type { ObservabilityConfig } from '../../src/config-observability.js';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Clock } from '../../src/ids.js';
import type { KnowledgeSearch } from '../../src/knowledge/knowledge-search.js';
import type { ModelRegistry } from '../../src/models/registry.js';
import { parseOutboundAllow } from '../../src/outbound/allow-list.js';
import type { WebhooksConfig } from '../../src/config-webhooks.js';
import type { Tool } from '../../src/tools/tool.js';
import type { Scope } from '../../src/domain/models.js';
import { openStore, type Store } from '../../src/storage/store.js';
import { ResponseCheck } from './response-check.js';
import type { ThreadRef } from './sse-client.js';
import { SUPPORT_TEMPLATE } from './ids.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export interface TestContext {
  parley: ParleyApp;
  store: Store;
  database: TestDatabase;
  /** Everything the server logged, one JSON line per entry. */
  logs: string[];
  /** Where the apps of this context keep the generated root secret (when no secretKey is given). */
  secretKeyFile: string;
  /** Where the apps of this context keep uploaded files' bytes (FILES_DIR). */
  filesDir: string;
  /** Checks the JSON responses `injectRequest` receives against the OpenAPI document. */
  responseCheck: ResponseCheck;
  /** A fresh organisation with a key of the given scopes (default read, write, admin). */
  newOrganization(scopes?: Scope[]): Promise<TestOrganization>;
  /** Listens on a free loopback port (for real HTTP and SSE clients); returns the base URL. */
  listen(): Promise<string>;
  /**
   * Another server process, as it were: a second app with the same configuration on the same
   * database — but for the fields of `overrides` (e.g. another `secretKey`).
   */
  peer(
    overrides?: Partial<Pick<Config, 'secretKey' | 'retiredSecretKeys' | 'secretKeyFile' | 'mcp' | 'jobs' | 'live'>>,
  ): Promise<TestPeer>;
  close(): Promise<void>;
}

export interface TestPeer {
  parley: ParleyApp;
  listen(): Promise<string>;
  close(): Promise<void>;
}

async function listenOn(parley: ParleyApp): Promise<string> {
  await parley.app.listen({ port: 0, host: '127.0.0.1' });
  const address = parley.app.server.address() as AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

export interface TestOrganization {
  organizationId: string;
  userId: string;
  keyId: string;
  key: string;
  /** Another key of the same organisation and user with other scopes. */
  keyWith(scopes: Scope[], options?: { expiresAt?: string }): Promise<string>;
}

export async function createTestContext(
  options: {
    dialect?: 'sqlite' | 'postgres';
    authCacheTtlMs?: number;
    /** Failed authentications per address per minute before 429; the server's default when absent. */
    authFailureLimitPerMinute?: number;
    /** CORS_ORIGINS; off (none) when absent, as the server's default. */
    corsOrigins?: readonly string[] | '*';
    bodyLimitBytes?: number;
    /** Models the app resolves by id (scripted ones from test/fixtures/scripted-model.ts). */
    models?: ModelRegistry;
    tools?: ReadonlyMap<string, Tool>;
    /** What `knowledge_base_search` searches; the app's own when absent. */
    knowledge?: KnowledgeSearch;
    runtime?: Partial<RuntimeConfig>;
    streams?: Partial<StreamsConfig>;
    /** The clock both the app and its peers read (key expiry, timestamps). */
    clock?: Clock;
    /** DEMO_MODEL_WORDS_PER_SECOND; 0 (no delay) when absent, so tests never wait on the demo's pace. */
    demoWordsPerSecond?: number;
    /**
     * PARLEY_SECRET_KEY, decoded; unset when absent, as the server's default: the root is then
     * generated into this context's own data folder (`secretKeyFile`), which its peers share.
     */
    secretKey?: Buffer;
    /** The rest of PARLEY_SECRET_KEYS (older roots); none when absent. */
    retiredSecretKeys?: Buffer[];
    /** STREAM_TOKEN_TTL_SECONDS; the server's default when absent. */
    streamTokenTtlSeconds?: number;
    /** OUTBOUND_ALLOW (e.g. `127.0.0.1:4010` for a loopback fixture); none when absent, as the server's default. */
    outboundAllow?: string;
    /** The outbound client's resolver (test/helpers/ssrf-vectors.ts `createStubResolver`); the system's when absent. */
    outboundLookup?: LookupFunction;
    /** Knowledge settings over the defaults; `filesDir` is this context's own `files` folder unless given. */
    knowledgeConfig?: Partial<KnowledgeConfig>;
    /** The chat widget's settings (token lifetime, anonymous rate limits) over the defaults. */
    widget?: Partial<WidgetConfig>;
    /** MODEL_PRICING, parsed; none (the built-in prices) when absent. */
    pricing?: PricingOverrides;
    /**
     * RATE_LIMIT_PER_KEY, RATE_LIMIT_PER_ORG, REDIS_URL and the Redis key prefix. Unlike the
     * server, the per-key and per-organisation limits are off unless given: suites that make many
     * requests with one key (fuzzing, list bounds) are not about rate limits.
     */
    rateLimits?: Partial<RateLimitsConfig>;
    /** Webhook settings over the defaults (e.g. `allowHttp` for a loopback receiver, short back-offs). */
    webhooks?: Partial<WebhooksConfig>;
    /** The job queue's settings over the defaults (e.g. a short `pollMs`, `workerConcurrency: 1`). */
    jobs?: Partial<JobsConfig>;
    /** The live layer's settings over the defaults (e.g. `redisUrl` and a fresh `keyPrefix`). */
    live?: Partial<LiveConfig>;
    /** METRICS_ENABLED, METRICS_TOKEN, the OTLP endpoint over the defaults (none of them set). */
    observability?: Partial<ObservabilityConfig>;
    /** Where the app's spans go (the SDK's InMemorySpanExporter); none when absent. */
    spanExporter?: SpanExporter;
  } = {},
): Promise<TestContext> {
  const database = await createTestDatabase(options.dialect);
  const store = await openStore(database.target);
  const logs: string[] = [];
  const logStream = new PassThrough();
  logStream.on('data', (chunk: Buffer) => logs.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  // The configuration a server started with no environment gets, with the test's overrides.
  const defaults = loadConfig({});
  // The data folder of this context: where the root secret is generated when none is configured.
  const dataDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-data-'));
  const build = (
    appStore: Store,
    appLogStream: NodeJS.WritableStream,
    overrides: Partial<
      Pick<Config, 'secretKey' | 'retiredSecretKeys' | 'secretKeyFile' | 'mcp' | 'jobs' | 'live'>
    > = {},
  ) =>
    createApp({
      config: {
        ...defaults,
        database: database.target,
        logLevel: 'debug',
        authCacheTtlMs: options.authCacheTtlMs ?? 0,
        authFailureLimitPerMinute: options.authFailureLimitPerMinute ?? defaults.authFailureLimitPerMinute,
        corsOrigins: options.corsOrigins ?? defaults.corsOrigins,
        bodyLimitBytes: options.bodyLimitBytes ?? 1024 * 1024,
        models: { ...defaults.models, demoWordsPerSecond: options.demoWordsPerSecond ?? 0 },
        runtime: { ...defaults.runtime, ...options.runtime },
        streams: { ...defaults.streams, ...options.streams },
        secretKey: options.secretKey,
        retiredSecretKeys: options.retiredSecretKeys ?? [],
        secretKeyFile: path.join(dataDirectory, 'secret.key'),
        streamTokenTtlSeconds: options.streamTokenTtlSeconds ?? defaults.streamTokenTtlSeconds,
        outbound: options.outboundAllow ? { allow: parseOutboundAllow(options.outboundAllow) } : defaults.outbound,
        knowledge: { ...defaults.knowledge, filesDir: path.join(dataDirectory, 'files'), ...options.knowledgeConfig },
        widget: { ...defaults.widget, ...options.widget },
        pricing: options.pricing ?? defaults.pricing,
        rateLimits: { ...defaults.rateLimits, perKeyPerMinute: 0, perOrganizationPerMinute: 0, ...options.rateLimits },
        webhooks: { ...defaults.webhooks, ...options.webhooks },
        jobs: { ...defaults.jobs, ...options.jobs },
        live: { ...defaults.live, ...options.live },
        observability: { ...defaults.observability, ...options.observability },
        ...overrides,
      },
      store: appStore,
      logStream: appLogStream,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.models ? { models: options.models } : {}),
      ...(options.tools ? { tools: options.tools } : {}),
      ...(options.knowledge ? { knowledge: options.knowledge } : {}),
      ...(options.outboundLookup ? { outboundLookup: options.outboundLookup } : {}),
      ...(options.spanExporter ? { spanExporter: options.spanExporter } : {}),
    });
  const parley = await build(store, logStream);
  const peers: TestPeer[] = [];
  let organizations = 0;
  return {
    parley,
    store,
    database,
    logs,
    secretKeyFile: path.join(dataDirectory, 'secret.key'),
    filesDir: options.knowledgeConfig?.filesDir ?? path.join(dataDirectory, 'files'),
    responseCheck: new ResponseCheck(parley.app),
    async newOrganization(scopes: Scope[] = ['read', 'write', 'admin']) {
      organizations += 1;
      const name = `org-${organizations}-${crypto.randomBytes(3).toString('hex')}`;
      const created = await parley.keys.create({ organization: { name }, userName: 'tester', scopes });
      return {
        organizationId: created.api_key.organization_id,
        userId: created.api_key.user_id,
        keyId: created.api_key.id,
        key: created.key,
        keyWith: async (otherScopes, keyOptions = {}) =>
          (
            await parley.keys.create({
              organization: { id: created.api_key.organization_id },
              userName: 'tester',
              scopes: otherScopes,
              expiresAt: keyOptions.expiresAt ?? null,
            })
          ).key,
      };
    },
    listen: () => listenOn(parley),
    async peer(overrides = {}) {
      const peerStore = await openStore(database.target);
      const peerApp = await build(peerStore, logStream, overrides).catch(async (error: unknown) => {
        await peerStore.close();
        throw error;
      });
      const peer: TestPeer = {
        parley: peerApp,
        listen: () => listenOn(peerApp),
        async close() {
          peers.splice(peers.indexOf(peer), 1);
          await peerApp.shutdown(0);
          await peerStore.close();
        },
      };
      peers.push(peer);
      return peer;
    },
    async close() {
      for (const peer of [...peers]) await peer.close();
      await parley.shutdown(0);
      await store.close();
      await database.destroy();
      fs.rmSync(dataDirectory, { recursive: true, force: true });
    },
  };
}

/**
 * One request through `app.inject` with exactly the given headers; a body that is not a string is
 * sent as JSON, and the reply is parsed as JSON when it is JSON.
 */
export async function injectRequest(
  context: TestContext,
  request: { method: string; url: string; headers?: Record<string, string | string[]>; body?: unknown },
) {
  const { method, url, headers = {}, body } = request;
  const response = await context.parley.app.inject({
    method: method as 'GET',
    url,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined
      ? {}
      : { payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) }),
  });
  const parsed = parseJsonOrText(response.body);
  await context.responseCheck.check({
    method,
    url,
    status: response.statusCode,
    contentType: String(response.headers['content-type'] ?? ''),
    body: parsed,
  });
  return { status: response.statusCode, headers: response.headers, body: parsed, raw: response.body };
}

/** Small request helpers over `app.inject`, always with a key. */
export function client(context: TestContext, key: string) {
  const request = (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) =>
    injectRequest(context, { method, url, body, headers: { 'x-api-key': key, ...headers } });
  return {
    key,
    request,
    get: (url: string, headers?: Record<string, string>) => request('GET', url, undefined, headers),
    post: (url: string, body: unknown, headers?: Record<string, string>) => request('POST', url, body, headers),
    put: (url: string, body: unknown, headers?: Record<string, string>) => request('PUT', url, body, headers),
    patch: (url: string, body: unknown, headers?: Record<string, string>) => request('PATCH', url, body, headers),
    delete: (url: string, headers?: Record<string, string>) => request('DELETE', url, undefined, headers),
    async createAgent(overrides: Record<string, unknown> = {}) {
      const response = await request('POST', '/api/v1/agents', {
        name: 'Test agent',
        configuration: {},
        template_id: SUPPORT_TEMPLATE,
        ...overrides,
      });
      if (response.status !== 200) throw new Error(`createAgent: ${response.status} ${response.raw}`);
      return response.body as { id: string } & Record<string, unknown>;
    },
    async createThread(agentId: string, overrides: Record<string, unknown> = {}) {
      const response = await request('POST', `/api/v1/chat/${agentId}/threads`, {
        agent_id: agentId,
        title: 'A thread',
        metadata: {},
        ...overrides,
      });
      if (response.status !== 200) throw new Error(`createThread: ${response.status} ${response.raw}`);
      return response.body as { id: string } & Record<string, unknown>;
    },
  };
}

/** A fresh organisation with its client, an agent of the given configuration and one thread of it. */
export async function createAgentThread(context: TestContext, configuration: Record<string, unknown>) {
  const organization = await context.newOrganization();
  const api = client(context, organization.key);
  const agent = await api.createAgent({ configuration });
  const thread = await api.createThread(agent.id);
  return { organization, api, agent, thread };
}

/** The same, addressed for real HTTP and SSE clients over `base` (what `listen()` returned). */
export async function createThreadRef(
  context: TestContext,
  options: { base: string; configuration: Record<string, unknown> },
): Promise<ThreadRef & { organizationId: string }> {
  const { organization, agent, thread } = await createAgentThread(context, options.configuration);
  return {
    base: options.base,
    key: organization.key,
    agentId: agent.id,
    threadId: thread.id,
    organizationId: organization.organizationId,
  };
}

/** The client `client()` returns, and one of its responses. */
export type Api = ReturnType<typeof client>;
export type Response = Awaited<ReturnType<typeof injectRequest>>;

/** A response body: JSON when it parses, else the text (undefined when empty). */
export function parseJsonOrText(text: string): any {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Inserts a message (with tool calls) straight through the store: message creation arrives with the runtime. */
export async function seedMessage(
  context: TestContext,
  input: {
    organizationId: string;
    threadId: string;
    role?: string;
    content: string;
    createdAt?: string;
    toolCalls?: { tool_name: string; arguments: object; result?: unknown; error?: string | null }[];
  },
): Promise<string> {
  const id = crypto.randomUUID();
  const createdAt = input.createdAt ?? new Date().toISOString();
  await context.store.write((writers) =>
    writers.messages.insert({
      id,
      organization_id: input.organizationId,
      thread_id: input.threadId,
      role: input.role ?? 'user',
      content: input.content,
      content_html: null,
      attachments: [],
      metadata: {},
      created_at: createdAt,
      tool_calls: (input.toolCalls ?? []).map((call, position) => ({
        id: crypto.randomUUID(),
        position,
        tool_name: call.tool_name,
        arguments: call.arguments as Record<string, unknown>,
        result: call.result === undefined ? null : call.result,
        error: call.error ?? null,
        start_time: createdAt,
        end_time: createdAt,
      })),
    }),
  );
  return id;
}
