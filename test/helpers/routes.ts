import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import Database from 'better-sqlite3';
import pg from 'pg';
import { expect } from 'vitest';
import {
  client,
  injectRequest,
  parseJsonOrText,
  seedMessage,
  type Api,
  type Response,
  type TestContext,
  type TestOrganization,
} from './harness.js';
import { SUPPORT_TEMPLATE, UUID_PATTERN } from './ids.js';
import { jobEnded, multipartBody, settledFile, uploadFile } from './agent-files.js';

/**
 * Helpers for the security suites: the operation inventory read from the app's own OpenAPI
 * document, a minimal valid request per operation, the error envelope, and database dumps.
 */

/**
 * Parameters (path or query) that name a tenant-owned object. Any other path parameter fails the
 * suites until it is added here. `execution_id` is a chat run's id (an execution with trigger `api`,
 * whose own `flow_id` is its agent's id); `flow_id` is the id of a flow of the agent (its own
 * executions are not among the objects: one would run in the background while dumps compare).
 */
export const ID_PARAMS = [
  'agent_id',
  'thread_id',
  'key_id',
  'run_id',
  'execution_id',
  'flow_id',
  'tool_id',
  'server_id',
  'file_id',
  'job_id',
  'widget_key_id',
  'webhook_id',
] as const;
export type IdParam = (typeof ID_PARAMS)[number];
export type Ids = Record<IdParam, string>;

/**
 * Path parameters that are not object ids but names within one (a tool call's id within its
 * run), with the value the suites put there.
 */
export const NAME_PARAMS: Readonly<Record<string, string>> = { call_id: 'call_security_suite' };

export interface Operation {
  /** `METHOD /path/{param}` as the OpenAPI document spells it. */
  name: string;
  method: string;
  path: string;
  pathParams: string[];
  /** Query parameters that carry an object id (e.g. `agent_id` of clear-all-chats). */
  idQueryParams: IdParam[];
  hasBody: boolean;
  /** The operation declares `security: []`. */
  public: boolean;
}

export interface OperationSpec {
  /** Status the owning organisation gets with its own objects and the minimal body. */
  owner: number;
  /**
   * The 404 `code` another organisation gets with this operation's ids; a function when it depends
   * on which of the ids are the other organisation's. Every id route needs this or `filter`.
   */
  notFound?: string | ((foreign: ReadonlySet<IdParam>) => string);
  /** The id parameters only filter a list: another organisation gets 200 and none of the rows. */
  filter?: true;
  /** A minimal valid body. Required when the operation has a request body. */
  body?: (ids: Ids & { answer_id?: string }) => unknown;
  /** The minimal body names the finished run or its answer (`answer_id`): the objects need a run. */
  usesRun?: true;
  /** Bodies the cross-organisation matrix tries (default: `body`), e.g. every message role. */
  crossOrgBodies?: (ids: Ids) => unknown[];
  /** Answers with server-sent events: called over loopback HTTP and read up to the headers. */
  stream?: true;
  /** A POST that changes nothing (issuing a stream token): a read-only key may call it, as a GET. */
  readOnly?: true;
  /** The body's Content-Type when it is not JSON (the upload's multipart body, a Buffer). */
  contentType?: string;
  /** Query parameters every call sends besides the id ones (a search's required `query`). */
  query?: Readonly<Record<string, string>>;
  /**
   * A 200 answer names a background job (`job_id`): `call` waits for it to end, so nothing
   * changes behind the next request (the suites compare database dumps).
   */
  startsJob?: true;
}

/** The upload's minimal body: a small text file in the field `file`. */
const UPLOAD = multipartBody([
  {
    name: 'file',
    filename: 'security-suite.txt',
    contentType: 'text/plain',
    content: 'Planted by the security suite.\n',
  },
]);

/** A flow route's 404: the agent's when the agent is another organisation's, else the flow's. */
function flowNotFound(foreign: ReadonlySet<IdParam>): string {
  return foreign.has('agent_id') ? 'agent_not_found' : 'flow_not_found';
}

/**
 * One entry per operation in the OpenAPI document. A new route without an entry fails the suites
 * (`operationSpecProblems`), so it cannot escape the BOLA, scope and inventory tests.
 */
export const OPERATIONS: Record<string, OperationSpec> = {
  'GET /healthz': { owner: 200 },
  'GET /readyz': { owner: 200 },
  'GET /metrics': { owner: 200 },
  'GET /api/v1/agents': { owner: 200 },
  'POST /api/v1/agents': {
    owner: 200,
    body: () => ({ name: 'Created by the security suite', configuration: {}, template_id: SUPPORT_TEMPLATE }),
  },
  'GET /api/v1/agents/{agent_id}': { owner: 200, notFound: 'agent_not_found' },
  'PUT /api/v1/agents/{agent_id}': {
    owner: 200,
    notFound: 'agent_not_found',
    body: () => ({ name: 'Renamed by the security suite', metadata: { tampered: true } }),
  },
  'DELETE /api/v1/agents/{agent_id}': { owner: 204, notFound: 'agent_not_found' },
  'GET /api/v1/templates': { owner: 200 },
  'GET /api/v1/models': { owner: 200 },
  'DELETE /api/v1/chat/clear-all-chats': { owner: 200, notFound: 'agent_not_found' },
  'GET /api/v1/chat/{agent_id}/threads': { owner: 200, notFound: 'agent_not_found' },
  'POST /api/v1/chat/{agent_id}/threads': {
    owner: 200,
    notFound: 'agent_not_found',
    body: (ids) => ({ agent_id: ids.agent_id, title: 'Planted by the security suite', metadata: {} }),
  },
  'GET /api/v1/chat/{agent_id}/threads/search': {
    owner: 200,
    notFound: 'agent_not_found',
    query: { q: 'private message' },
  },
  'GET /api/v1/search/messages': { owner: 200, filter: true, query: { q: 'private message' } },
  'GET /api/v1/chat/{agent_id}/web-threads': { owner: 200, notFound: 'agent_not_found' },
  'GET /api/v1/chat/{agent_id}/web-threads/enhanced': { owner: 200, notFound: 'agent_not_found' },
  'GET /api/v1/chat/{agent_id}/web-threads/search': {
    owner: 200,
    notFound: 'agent_not_found',
    query: { q: 'private message', feedback: 'any', ticket: 'chat_only', sort: 'oldest' },
  },
  'GET /api/v1/chat/{agent_id}/threads/{thread_id}': { owner: 200, notFound: 'thread_not_found' },
  'PATCH /api/v1/chat/{agent_id}/threads/{thread_id}': {
    owner: 200,
    notFound: 'thread_not_found',
    body: () => ({ title: 'Renamed by the security suite', metadata: { tampered: true } }),
  },
  'DELETE /api/v1/chat/{agent_id}/threads/{thread_id}': { owner: 204, notFound: 'thread_not_found' },
  'GET /api/v1/chat/{agent_id}/threads/{thread_id}/messages': { owner: 200, notFound: 'thread_not_found' },
  'GET /api/v1/api-keys': { owner: 200 },
  'POST /api/v1/api-keys': { owner: 200, body: () => ({ name: 'made by the security suite', scopes: ['read'] }) },
  'GET /api/v1/api-keys/{key_id}': { owner: 200, notFound: 'api_key_not_found' },
  'DELETE /api/v1/api-keys/{key_id}': { owner: 200, notFound: 'api_key_not_found' },
  'GET /api/v1/usage': { owner: 200 },
  'GET /api/v1/quota': { owner: 200 },
  // No limits: the suites' later runs must not be refused.
  'PUT /api/v1/quota': { owner: 200, body: () => ({ period: 'month', max_tokens: null, max_cost: null }) },
  // The agent is checked before the thread, so the code names the first foreign object.
  'POST /api/v1/chat/{agent_id}/threads/{thread_id}/messages': {
    owner: 200,
    notFound: agentThenThread,
    body: () => ({ content: 'Stored by the security suite', role: 'assistant' }),
    crossOrgBodies: (ids) => [
      { content: 'Run by the security suite', role: 'user' },
      { content: 'Stored by the security suite', role: 'assistant', agent_id: ids.agent_id },
    ],
  },
  'POST /api/v1/chat/{agent_id}/threads/{thread_id}/messages/stream': {
    owner: 200,
    notFound: agentThenThread,
    stream: true,
    body: () => ({ content: 'Stored by the security suite', role: 'assistant' }),
    crossOrgBodies: () => [
      { content: 'Run by the security suite', role: 'user' },
      { content: 'Stored by the security suite', role: 'assistant' },
    ],
  },
  'GET /api/v1/chat/{agent_id}/threads/{thread_id}/stream': { owner: 200, notFound: 'thread_not_found', stream: true },
  // The AI SDK's chat protocol: the thread is the body's `id`; the agent is checked first.
  'POST /api/v1/chat/{agent_id}/ui-messages': {
    owner: 200,
    notFound: 'agent_not_found',
    stream: true,
    body: (ids) => ({
      id: ids.thread_id,
      messages: [{ id: 'security-suite', role: 'user', parts: [{ type: 'text', text: 'Run by the security suite' }] }],
      trigger: 'submit-message',
    }),
  },
  // No run is active on the owner's thread: 204, nothing to resume.
  'GET /api/v1/chat/{agent_id}/ui-messages/{thread_id}/stream': {
    owner: 204,
    notFound: 'thread_not_found',
    stream: true,
  },
  // The thread is in the body: the matrix swaps path ids, so another organisation's agent is what
  // it tries (test/http/ag-ui.test.ts tries another organisation's thread).
  'POST /api/v1/chat/{agent_id}/ag-ui': {
    owner: 200,
    notFound: 'agent_not_found',
    stream: true,
    body: (ids) => ({
      threadId: ids.thread_id,
      runId: 'security-suite-run',
      messages: [{ id: 'security-suite-message', role: 'user', content: 'Run by the security suite' }],
    }),
  },
  'POST /api/v1/chat/{agent_id}/threads/{thread_id}/stream-token': {
    owner: 200,
    notFound: 'thread_not_found',
    readOnly: true,
  },
  // The owner's run has finished: 409 run_not_active, where another organisation gets 404.
  'POST /api/v1/chat/{agent_id}/threads/{thread_id}/runs/{run_id}/cancel': { owner: 409, notFound: 'run_not_found' },
  'GET /api/v1/agents/{agent_id}/tools': { owner: 200, notFound: 'agent_not_found' },
  'POST /api/v1/agents/{agent_id}/tools': {
    owner: 200,
    notFound: 'agent_not_found',
    body: (ids) => ({ tool_name: 'current_time', tool_type: 'built_in', agent_id: ids.agent_id }),
  },
  'GET /api/v1/agents/{agent_id}/tools/{tool_id}': { owner: 200, notFound: agentThenTool },
  'PATCH /api/v1/agents/{agent_id}/tools/{tool_id}': {
    owner: 200,
    notFound: agentThenTool,
    body: () => ({ is_enabled: false }),
  },
  'DELETE /api/v1/agents/{agent_id}/tools/{tool_id}': { owner: 204, notFound: agentThenTool },
  'POST /api/v1/agents/{agent_id}/tools/import-openapi': {
    owner: 200,
    notFound: 'agent_not_found',
    body: () => ({
      document: {
        openapi: '3.0.3',
        info: { title: 'Security suite', version: '1' },
        servers: [{ url: 'https://api.example.test' }],
        paths: { '/ping': { get: { operationId: 'ping' } } },
      },
      dry_run: true,
    }),
  },
  // The owner's run has no call waiting for approval: 404 tool_call_not_found.
  'POST /api/v1/chat/{agent_id}/threads/{thread_id}/runs/{run_id}/tool-calls/{call_id}/approve': {
    owner: 404,
    notFound: 'run_not_found',
    body: () => ({}),
  },
  'POST /api/v1/chat/{agent_id}/threads/{thread_id}/runs/{run_id}/tool-calls/{call_id}/reject': {
    owner: 404,
    notFound: 'run_not_found',
    body: () => ({ reason: 'Rejected by the security suite' }),
  },
  'POST /api/v1/mcp/agents/{agent_id}/servers': {
    owner: 200,
    notFound: 'agent_not_found',
    body: (ids) => ({
      name: 'Planted by the security suite',
      url: 'https://mcp.example.test/mcp',
      agent_id: ids.agent_id,
    }),
  },
  'GET /api/v1/mcp/agents/{agent_id}/servers': { owner: 200, notFound: 'agent_not_found' },
  'GET /api/v1/mcp/agents/{agent_id}/servers/{server_id}': { owner: 200, notFound: agentThenServer },
  'PUT /api/v1/mcp/agents/{agent_id}/servers/{server_id}': {
    owner: 200,
    notFound: agentThenServer,
    body: () => ({ name: 'Renamed by the security suite' }),
  },
  'DELETE /api/v1/mcp/agents/{agent_id}/servers/{server_id}': { owner: 204, notFound: agentThenServer },
  // The owner's server is not reachable (its name does not resolve): 502 mcp_server_unavailable.
  'POST /api/v1/mcp/agents/{agent_id}/servers/{server_id}/connect': { owner: 502, notFound: agentThenServer },
  'POST /api/v1/mcp/agents/{agent_id}/servers/{server_id}/health-check': { owner: 200, notFound: agentThenServer },
  'GET /api/v1/mcp/agents/{agent_id}/servers/{server_id}/tools': { owner: 200, notFound: agentThenServer },
  'POST /api/v1/agent-files/{agent_id}/files': {
    owner: 200,
    startsJob: true,
    notFound: 'agent_not_found',
    body: () => UPLOAD.body,
    contentType: UPLOAD.contentType,
  },
  'GET /api/v1/agent-files/{agent_id}/files': { owner: 200, notFound: 'agent_not_found' },
  'POST /api/v1/agent-files/{agent_id}/urls': {
    owner: 200,
    startsJob: true,
    notFound: 'agent_not_found',
    body: () => ({ url: 'https://docs.example.test/security-suite' }),
  },
  'GET /api/v1/agent-files/{agent_id}/files/search': {
    owner: 200,
    notFound: 'agent_not_found',
    query: { query: 'private knowledge vault code' },
  },
  'GET /api/v1/agent-files/{agent_id}/files/{file_id}': { owner: 200, notFound: agentThenFile },
  'DELETE /api/v1/agent-files/{agent_id}/files/{file_id}': { owner: 204, notFound: agentThenFile },
  'GET /api/v1/agent-files/{agent_id}/files/{file_id}/content': { owner: 200, notFound: agentThenFile },
  'POST /api/v1/agent-files/{agent_id}/files/{file_id}/reindex': {
    owner: 200,
    notFound: agentThenFile,
    startsJob: true,
  },
  'GET /api/v1/agent-files/{agent_id}/jobs/{job_id}': { owner: 200, notFound: agentThenJob },
  'GET /api/v1/flows/executions': { owner: 200, filter: true },
  'GET /api/v1/flows/executions/{execution_id}': { owner: 200, notFound: 'flow_execution_not_found' },
  'PATCH /api/v1/flows/executions/{execution_id}': {
    owner: 200,
    notFound: 'flow_execution_not_found',
    body: () => ({ metadata: { tampered: true } }),
  },
  // The objects' execution is a chat run: the owner is told to cancel it through its thread.
  'POST /api/v1/flows/executions/{execution_id}/cancel': {
    owner: 409,
    notFound: 'flow_execution_not_found',
    body: () => ({}),
  },
  'GET /api/v1/flows/executions/{execution_id}/changes': { owner: 200, notFound: 'flow_execution_not_found' },
  // The flow id is in the body: test/http/flows.test.ts tries another organisation's. Scheduled
  // far ahead, so nothing runs in the background while the suites compare dumps.
  'POST /api/v1/flows/execute': {
    owner: 200,
    body: (ids) => ({ flow_id: ids.flow_id, trigger_type: 'test', scheduled_at: '2099-01-01T00:00:00Z' }),
  },
  'GET /api/v1/agents/{agent_id}/flows': { owner: 200, notFound: 'agent_not_found' },
  'POST /api/v1/agents/{agent_id}/flows': {
    owner: 200,
    notFound: 'agent_not_found',
    body: () => ({ name: 'Planted by the security suite', instructions: 'Say {{word}}.' }),
  },
  'GET /api/v1/agents/{agent_id}/flows/{flow_id}': { owner: 200, notFound: flowNotFound },
  'PUT /api/v1/agents/{agent_id}/flows/{flow_id}': {
    owner: 200,
    notFound: flowNotFound,
    body: () => ({ name: 'Renamed by the security suite', metadata: { tampered: true } }),
  },
  'DELETE /api/v1/agents/{agent_id}/flows/{flow_id}': { owner: 204, notFound: flowNotFound },
  'GET /api/v1/tool-calls': { owner: 200, filter: true },
  // The rated ids are in the body: test/http/feedback.test.ts tries another organisation's.
  'POST /api/v1/feedback/chat': {
    owner: 200,
    usesRun: true,
    body: (ids) => ({ message_id: ids.answer_id, source: 'chat', feedback_details: { feedback_type: 'positive' } }),
  },
  'POST /api/v1/feedback/flow': {
    owner: 200,
    usesRun: true,
    body: (ids) => ({
      flow_execution_id: ids.run_id,
      context_id: 'security-suite',
      source: 'flow',
      feedback_type: 'negative',
    }),
  },
  'GET /api/v1/feedback': { owner: 200, filter: true },
  'GET /api/v1/feedback/export': { owner: 200, filter: true },
  // Public: without a state the callback refuses (400 mcp_oauth_state_invalid, a page for browsers).
  'GET /api/v1/mcp/oauth/callback': { owner: 400 },
  'GET /api/v1/mcp/oauth/client-metadata.json': { owner: 200 },
  'GET /api/v1/widget-keys': { owner: 200, filter: true },
  'POST /api/v1/widget-keys': {
    owner: 200,
    body: (ids) => ({
      agent_id: ids.agent_id,
      name: 'Made by the security suite',
      allowed_origins: ['https://suite.example'],
    }),
  },
  'GET /api/v1/widget-keys/{widget_key_id}': { owner: 200, notFound: 'widget_key_not_found' },
  'DELETE /api/v1/widget-keys/{widget_key_id}': { owner: 200, notFound: 'widget_key_not_found' },
  'GET /api/v1/webhooks': { owner: 200 },
  'POST /api/v1/webhooks': {
    owner: 200,
    body: () => ({ url: 'https://hooks.example.test/security-suite', events: ['run.failed'] }),
  },
  'GET /api/v1/webhooks/{webhook_id}': { owner: 200, notFound: 'webhook_not_found' },
  'PATCH /api/v1/webhooks/{webhook_id}': {
    owner: 200,
    notFound: 'webhook_not_found',
    body: () => ({ description: 'Changed by the security suite' }),
  },
  'DELETE /api/v1/webhooks/{webhook_id}': { owner: 204, notFound: 'webhook_not_found' },
  'GET /api/v1/webhooks/{webhook_id}/deliveries': { owner: 200, notFound: 'webhook_not_found' },
  // Enqueues a delivery to the endpoint's (unreachable) .test host: nothing a foreign key may cause.
  'POST /api/v1/webhooks/{webhook_id}/test': { owner: 200, notFound: 'webhook_not_found' },
  'POST /api/v1/webhooks/{webhook_id}/rotate-secret': { owner: 200, notFound: 'webhook_not_found' },
  // Public: the publishable key in the body is the credential; a made-up one is refused.
  'POST /api/v1/widget/sessions': { owner: 401, body: () => ({ widget_key: 'pwk_security_suite' }) },
  // For widget visitors only: an API key's user has no session to identify (403).
  'POST /api/v1/widget/identify': {
    owner: 403,
    body: () => ({ user_id: 'security-suite', user_hash: '0'.repeat(64) }),
  },
};

function agentThenThread(foreign: ReadonlySet<IdParam>): string {
  return foreign.has('agent_id') ? 'agent_not_found' : 'thread_not_found';
}

function agentThenServer(foreign: ReadonlySet<IdParam>): string {
  return foreign.has('agent_id') ? 'agent_not_found' : 'mcp_server_not_found';
}

function agentThenFile(foreign: ReadonlySet<IdParam>): string {
  return foreign.has('agent_id') ? 'agent_not_found' : 'file_not_found';
}

function agentThenJob(foreign: ReadonlySet<IdParam>): string {
  return foreign.has('agent_id') ? 'agent_not_found' : 'job_not_found';
}

function agentThenTool(foreign: ReadonlySet<IdParam>): string {
  return foreign.has('agent_id') ? 'agent_not_found' : 'tool_not_found';
}

/** The `detail` of each error code the suites expect (exact strings, as clients see them). */
export const ERROR_DETAILS: Record<string, string> = {
  invalid_api_key: 'A valid API key is required in the x-api-key header.',
  insufficient_scope: 'The API key lacks the scope this operation needs.',
  route_not_found: 'Not Found',
  method_not_allowed: 'Method Not Allowed',
  agent_not_found: 'Agent not found.',
  thread_not_found: 'Chat thread not found.',
  api_key_not_found: 'API key not found.',
  widget_key_not_found: 'Widget key not found.',
  webhook_not_found: 'Webhook not found.',
  message_not_found: 'Chat message not found.',
  invalid_widget_key: 'A valid publishable widget key is required.',
  invalid_widget_token: 'The visitor token is not valid: start a new widget session (POST /api/v1/widget/sessions).',
  widget_token_expired: 'The visitor token has expired: renew it by posting it to POST /api/v1/widget/sessions.',
  widget_origin_not_allowed: 'The widget key does not allow this page’s origin.',
  invalid_user_hash: 'The user_hash does not match the user_id: the identity is not verified.',
  widget_identity_conflict:
    'This widget session is already identified as another user: start a new session for this user.',
  rate_limited: 'Too many requests. Retry after the time in Retry-After.',
  run_not_found: 'Run not found.',
  flow_execution_not_found: 'Flow execution not found.',
  flow_not_found: 'Flow not found.',
  flow_execution_finished:
    'The flow execution has ended: it cannot be cancelled or set back to pending, queued or running.',
  flow_execution_not_cancellable:
    'This execution is a chat run: cancel it through its thread (POST …/runs/{run_id}/cancel).',
  tool_not_found: 'Agent tool not found.',
  mcp_server_not_found: 'MCP server not found.',
  file_not_found: 'Agent file not found.',
  job_not_found: 'Job not found.',
  file_too_large: 'The file is larger than this server accepts (MAX_UPLOAD_BYTES).',
  storage_quota_exceeded:
    'The file does not fit in the organisation’s remaining storage (ORGANIZATION_STORAGE_QUOTA_BYTES).',
  empty_file: 'The file is empty.',
  file_has_no_content:
    'This file was added by URL: it has no stored bytes to download (its pages are indexed, not kept).',
  file_job_running: 'The file is being indexed already; wait for its job to end.',
  payload_too_large: 'The request body is too large.',
  unsupported_media_type: 'Unsupported Content-Type.',
};

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

export async function loadSpec(context: TestContext): Promise<any> {
  const response = await context.parley.app.inject({ method: 'GET', url: '/openapi.json' });
  if (response.statusCode !== 200) throw new Error(`GET /openapi.json: ${response.statusCode}`);
  return JSON.parse(response.body);
}

/** Every operation of the OpenAPI document. */
export async function loadOperations(context: TestContext): Promise<Operation[]> {
  const spec = await loadSpec(context);
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries<Record<string, any>>(spec.paths)) {
    for (const [method, operation] of Object.entries<any>(item)) {
      if (!HTTP_METHODS.includes(method)) continue;
      const parameters: { in: string; name: string }[] = [...(item.parameters ?? []), ...(operation.parameters ?? [])];
      const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!);
      operations.push({
        name: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        pathParams,
        idQueryParams: parameters
          .filter((parameter) => parameter.in === 'query' && (ID_PARAMS as readonly string[]).includes(parameter.name))
          .map((parameter) => parameter.name as IdParam),
        hasBody: operation.requestBody !== undefined,
        public: Array.isArray(operation.security) && operation.security.length === 0,
      });
    }
  }
  return operations;
}

/** The id parameters (path or query) of an operation. */
export function idParamsOf(operation: Operation): IdParam[] {
  return [...operation.pathParams, ...operation.idQueryParams].filter((name): name is IdParam =>
    (ID_PARAMS as readonly string[]).includes(name),
  );
}

/** What is wrong with the OPERATIONS map for this document; empty when every route is covered. */
export function operationSpecProblems(operations: Operation[]): string[] {
  const problems: string[] = [];
  for (const operation of operations) {
    const spec = OPERATIONS[operation.name];
    if (!spec) {
      problems.push(`${operation.name}: no entry in OPERATIONS (test/helpers/routes.ts)`);
      continue;
    }
    for (const name of operation.pathParams) {
      if (!(ID_PARAMS as readonly string[]).includes(name) && NAME_PARAMS[name] === undefined)
        problems.push(`${operation.name}: unknown path parameter ${name}`);
    }
    if (operation.hasBody && !spec.body)
      problems.push(`${operation.name}: has a request body but no body in OPERATIONS`);
    if (idParamsOf(operation).length > 0 && !spec.notFound && !spec.filter) {
      problems.push(`${operation.name}: id route without notFound or filter`);
    }
  }
  const names = new Set(operations.map((operation) => operation.name));
  for (const name of Object.keys(OPERATIONS))
    if (!names.has(name)) problems.push(`${name}: in OPERATIONS but not in the spec`);
  return problems;
}

export function specOf(operation: Operation): OperationSpec {
  const spec = OPERATIONS[operation.name];
  if (!spec) throw new Error(`${operation.name}: no entry in OPERATIONS (test/helpers/routes.ts)`);
  return spec;
}

/** The URL of an operation with the given ids in its path and id query parameters. */
export function urlOf(operation: Operation, ids: Partial<Ids>): string {
  const value = (name: string): string => {
    const id = ids[name as IdParam] ?? NAME_PARAMS[name];
    if (id === undefined) throw new Error(`${operation.name}: no value for ${name}`);
    return encodeURIComponent(id);
  };
  const path = operation.path.replace(/\{([^}]+)\}/g, (_match, name: string) => value(name));
  const extra = Object.entries(OPERATIONS[operation.name]?.query ?? {}).map(
    ([name, text]) => `${name}=${encodeURIComponent(text)}`,
  );
  const query = [...operation.idQueryParams.map((name) => `${name}=${value(name)}`), ...extra].join('&');
  return query ? `${path}?${query}` : path;
}

/** The 404 code another organisation must get when the ids in `foreign` are not its own. */
export function notFoundCode(operation: Operation, foreign: ReadonlySet<IdParam>): string {
  const { notFound } = specOf(operation);
  if (notFound === undefined) throw new Error(`${operation.name}: no notFound in OPERATIONS`);
  return typeof notFound === 'string' ? notFound : notFound(foreign);
}

/**
 * Calls an operation with `key` (or none) and its minimal valid body, or `options.body`. Streaming
 * operations go over loopback HTTP, and the stream is dropped once its headers have arrived.
 */
export async function call(
  context: TestContext,
  key: string | null,
  operation: Operation,
  ids: Partial<Ids>,
  options: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<Response> {
  const spec = specOf(operation);
  const body = options.body ?? (operation.hasBody ? spec.body!(ids as Ids) : undefined);
  const headers = {
    ...(spec.contentType && options.body === undefined ? { 'content-type': spec.contentType } : {}),
    ...(key === null ? {} : { 'x-api-key': key }),
    ...options.headers,
  };
  if (spec.stream)
    return rawRequest(await loopbackPort(context), operation.method, urlOf(operation, ids), headers, body);
  const response = await bareRequest(context, operation.method, urlOf(operation, ids), { headers, body });
  if (spec.startsJob && response.status === 200 && key !== null) {
    await jobEnded(context, { key, agentId: ids.agent_id!, jobId: response.body.job_id });
  }
  return response;
}

/** Objects of one organisation for the matrices. */
export interface Objects extends Ids {
  message_id: string;
  /** The run's answer (the seeded message when there is no run). */
  answer_id: string;
  /** The plaintext of the key `key_id` (a read-only key, not the one making the calls). */
  key: string;
}

/**
 * Creates, through the API with an admin key of the organisation: an agent, a thread with a
 * seeded message (and tool call), an extra read-only API key and — unless `run` is false — a
 * finished run of the agent (the offline demo model) in that thread.
 */
export async function createObjects(
  context: TestContext,
  admin: Api,
  organizationId: string,
  label: string,
  options: { run?: boolean } = {},
): Promise<Objects> {
  const agent = await admin.createAgent({ name: `${label} agent` });
  const thread = await admin.createThread(agent.id, { title: `${label} thread`, metadata: { owner: label } });
  const messageId = await seedMessage(context, {
    organizationId,
    threadId: thread.id,
    content: `${label} private message`,
    toolCalls: [{ tool_name: 'lookup', arguments: { owner: label }, result: { ok: true } }],
  });
  const key = await admin.post('/api/v1/api-keys', { name: `${label} extra key`, scopes: ['read'] });
  if (key.status !== 200) throw new Error(`create key: ${key.status} ${key.raw}`);
  const tool = await admin.post(`/api/v1/agents/${agent.id}/tools`, { tool_name: 'calculator', tool_type: 'built_in' });
  if (tool.status !== 200) throw new Error(`create tool: ${tool.status} ${tool.raw}`);
  const server = await admin.post(`/api/v1/mcp/agents/${agent.id}/servers`, {
    name: `${label} MCP server`,
    url: 'https://mcp.example.test/mcp',
  });
  if (server.status !== 200) throw new Error(`create MCP server: ${server.status} ${server.raw}`);
  const file = await createFile(context, admin.key, agent.id, label);
  const widgetKey = await admin.post('/api/v1/widget-keys', {
    agent_id: agent.id,
    name: `${label} widget`,
    allowed_origins: ['https://shop.example'],
  });
  if (widgetKey.status !== 200) throw new Error(`create widget key: ${widgetKey.status} ${widgetKey.raw}`);
  // Subscribed to an event the suites never cause (the demo model does not fail): no deliveries
  // change the database behind the matrices' dumps.
  const webhook = await admin.post('/api/v1/webhooks', {
    url: `https://hooks.example.test/${encodeURIComponent(label)}`,
    events: ['run.failed'],
    description: `${label} webhook`,
  });
  if (webhook.status !== 200) throw new Error(`create webhook: ${webhook.status} ${webhook.raw}`);
  const flow = await admin.post(`/api/v1/agents/${agent.id}/flows`, {
    name: `${label} flow`,
    instructions: `${label} private flow instructions`,
  });
  if (flow.status !== 200) throw new Error(`create flow: ${flow.status} ${flow.raw}`);
  let runId: string = crypto.randomUUID();
  let answerId = messageId;
  if (options.run !== false) {
    const reply = await admin.post(`/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, {
      content: `${label} question`,
      role: 'user',
    });
    if (reply.status !== 200) throw new Error(`run: ${reply.status} ${reply.raw}`);
    answerId = reply.body.id;
    const executions = await admin.get(`/api/v1/flows/executions?agent_id=${agent.id}`);
    if (executions.status !== 200 || executions.body.executions.length !== 1) {
      throw new Error(`executions: ${executions.status} ${executions.raw}`);
    }
    runId = executions.body.executions[0].id;
  }
  return {
    agent_id: agent.id,
    thread_id: thread.id,
    key_id: key.body.api_key.id,
    run_id: runId,
    execution_id: runId,
    flow_id: flow.body.id,
    tool_id: tool.body.id,
    server_id: server.body.id,
    file_id: file.id,
    job_id: file.job_id,
    widget_key_id: widgetKey.body.id,
    webhook_id: webhook.body.id,
    message_id: messageId,
    answer_id: answerId,
    key: key.body.key,
  };
}

/**
 * An agent file, uploaded and indexed (its job over), so nothing changes in the background while
 * the matrices compare database dumps.
 */
async function createFile(context: TestContext, key: string, agentId: string, label: string) {
  const upload = await uploadFile(context, {
    key,
    agentId,
    filename: `${label} notes.txt`,
    contentType: 'text/plain',
    content: `${label} private knowledge: the vault code is kept in the ${label} handbook.\n`,
  });
  if (upload.status !== 200) throw new Error(`upload: ${upload.status} ${upload.raw}`);
  const file = await settledFile(context, { key, agentId, fileId: upload.body.id });
  if (file.status !== 'ready') throw new Error(`file not ready: ${JSON.stringify(file)}`);
  return file as { id: string; job_id: string };
}

/** Whether an operation needs a real run among its objects. */
export function needsRun(operation: Operation): boolean {
  const usesRun = OPERATIONS[operation.name]?.usesRun === true;
  return usesRun || idParamsOf(operation).some((name) => name === 'run_id' || name === 'execution_id');
}

/** The error envelope of a response, in a shape that makes a failing matrix easy to read. */
export function outcome(name: string, response: Response) {
  return { route: name, status: response.status, body: response.body };
}

/** The outcome an error with this code must have: exact detail, and request_id = x-request-id. */
export function expectedError(name: string, response: Response, status: number, code: string) {
  const detail = ERROR_DETAILS[code];
  if (detail === undefined) throw new Error(`no detail known for ${code}`);
  return { route: name, status, body: { detail, code, request_id: requestIdOf(response) } };
}

/** The x-request-id header, checked to be a server-generated UUID. */
export function requestIdOf(response: Response): string {
  const id = response.headers['x-request-id'];
  expect(id, 'x-request-id header').toMatch(UUID_PATTERN);
  return id as string;
}

export function expectError(response: Response, status: number, code: string, name = 'request'): void {
  expect(outcome(name, response)).toEqual(expectedError(name, response, status, code));
}

/** The `Allow` value a path must answer with: its methods in the spec, plus HEAD wherever GET is. */
export function allowFor(operations: Operation[], path: string): string {
  const methods = new Set(
    operations.filter((operation) => operation.path === path).map((operation) => operation.method),
  );
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort().join(', ');
}

/** Every route the router knows, read from `printRoutes` (one entry per method). */
export function registeredRoutes(context: TestContext): { method: string; url: string }[] {
  const text = context.parley.app.printRoutes({ commonPrefix: false });
  const routes: { method: string; url: string }[] = [];
  const stack: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const match = /^((?:[│ ] {3})*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) throw new Error(`printRoutes line not understood: ${JSON.stringify(line)}`);
    const depth = match[1]!.length / 4;
    const url = (depth === 0 ? '' : stack[depth - 1]!) + match[2]!;
    stack.length = depth;
    stack.push(url);
    for (const method of match[3]?.split(', ') ?? []) routes.push({ method, url });
  }
  return routes;
}

/** The rows of every table, sorted, so two dumps compare equal exactly when nothing changed. */
export async function dumpDatabase(context: TestContext): Promise<Record<string, unknown[]>> {
  const target = context.database.target;
  const dump: Record<string, unknown[]> = {};
  const sortRows = (rows: unknown[]) =>
    rows
      .map((row) => JSON.stringify(row))
      .sort()
      .map((row) => JSON.parse(row) as unknown);
  if (target.kind === 'sqlite') {
    const connection = new Database(target.filename, { readonly: true, fileMustExist: true });
    try {
      const tables = connection
        .prepare(`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`)
        .all() as { name: string }[];
      for (const { name } of tables) dump[name] = sortRows(connection.prepare(`select * from "${name}"`).all());
    } finally {
      connection.close();
    }
    return dump;
  }
  const connection = new pg.Client({ connectionString: target.connectionString });
  await connection.connect();
  try {
    const tables = await connection.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`,
    );
    for (const { table_name: name } of tables.rows) {
      dump[name] = sortRows((await connection.query(`select * from "${name}"`)).rows);
    }
  } finally {
    await connection.end();
  }
  return dump;
}

/** The bytes of the SQLite database and its WAL (and shared-memory index), as stored on disk. */
export function sqliteFileBytes(filename: string): Buffer {
  const parts = [filename, `${filename}-wal`, `${filename}-shm`, `${filename}-journal`]
    .filter((file) => fs.existsSync(file))
    .map((file) => fs.readFileSync(file));
  return Buffer.concat(parts);
}

const ports = new WeakMap<TestContext, Promise<number>>();

/**
 * The app listening on loopback (started on first use; `context.close()` stops it), so requests
 * reach the router exactly as sent and streams can be dropped like a real client does.
 */
export function loopbackPort(context: TestContext): Promise<number> {
  let port = ports.get(context);
  if (!port) {
    port = context.listen().then((base) => Number(new URL(base).port));
    ports.set(context, port);
  }
  return port;
}

/**
 * A raw HTTP request whose path is sent byte for byte, without client-side normalisation. An
 * event-stream answer resolves at its headers (body undefined) and the connection is dropped.
 */
export function rawRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<Response> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const allHeaders = { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers };
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port, method, path, headers: allHeaders, agent: false },
      (response) => {
        const base = { status: response.statusCode ?? 0, headers: response.headers as Response['headers'] };
        if (String(response.headers['content-type']).startsWith('text/event-stream')) {
          resolve({ ...base, body: undefined, raw: '' });
          response.destroy();
          request.destroy();
          return;
        }
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ ...base, body: parseJsonOrText(text), raw: text }));
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

/** A request through `app.inject` with exactly the given headers (no key unless one is passed). */
export async function bareRequest(
  context: TestContext,
  method: string,
  url: string,
  options: { headers?: Record<string, string | string[]>; body?: unknown } = {},
): Promise<Response> {
  return injectRequest(context, { method, url, ...options });
}

/** Two organisations, each with an admin key, a client and a full set of objects, plus the spec's operations. */
export interface TwoOrganizations {
  operations: Operation[];
  orgA: TestOrganization;
  orgB: TestOrganization;
  apiA: Api;
  apiB: Api;
  a: Objects;
  b: Objects;
}

export async function createTwoOrganizations(context: TestContext): Promise<TwoOrganizations> {
  const operations = await loadOperations(context);
  const orgA = await context.newOrganization();
  const orgB = await context.newOrganization();
  const apiA = client(context, orgA.key);
  const apiB = client(context, orgB.key);
  const a = await createObjects(context, apiA, orgA.organizationId, 'org-A');
  const b = await createObjects(context, apiB, orgB.organizationId, 'org-B');
  return { operations, orgA, orgB, apiA, apiB, a, b };
}
