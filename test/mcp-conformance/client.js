// Parley's client for the MCP conformance suite. The suite runs it once per scenario as
// `node test/mcp-conformance/client.js <server-url>`, with MCP_CONFORMANCE_SCENARIO (and, for
// some scenarios, MCP_CONFORMANCE_CONTEXT) in the environment, and judges what reaches its mock
// server. Nothing here speaks MCP: this script plays the people and the model around a real
// Parley (the built dist/, SQLite in memory, listening on loopback) —
//
// - the operator: registers the scenario's server for an agent through the API (with the
//   pre-registered client of MCP_CONFORMANCE_CONTEXT as `auth_config` when there is one);
// - the user: calls `connect`, and when Parley answers an `authorization_url`, follows it as a
//   consenting browser would (the suite's authorization server redirects at once) and delivers
//   the redirect to Parley's callback;
// - the model: a directed model whose "user messages" are JSON instructions naming the MCP tool
//   to call and its arguments, so each call goes through a real run (resolver, pool, guarded
//   fetch, OAuth layer, stored tool call).
//
// After each call, a server that Parley marked `needs_authorization` (a 403 insufficient_scope
// Parley could not step up by itself) is signed in once more and the call made once more: one
// step-up attempt, never a loop.
import crypto from 'node:crypto';
import { createApp } from '../../dist/app.js';
import { loadConfig } from '../../dist/config.js';
import { createModelRegistry } from '../../dist/models/registry.js';
import { openStore } from '../../dist/storage/store.js';

const SUPPORT_TEMPLATE_ID = '0b6a3c1e-5f1d-4a7e-9c2b-000000000002';
const DIRECTED_MODEL_ID = 'conformance:directed';

/** Arguments for the tools the scenarios' servers advertise; other tools get `{}`. */
const TOOL_ARGUMENTS = { add_numbers: { a: 5, b: 3 } };

const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
const serverUrl = process.argv[2];
const context = process.env.MCP_CONFORMANCE_CONTEXT ? JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT) : {};

/**
 * A model that reads its instruction from the last user message (`{"call": name, "input": {…}}`)
 * and calls that tool; once the tool answered, it says so and stops.
 */
function directedModel() {
  const finish = (reason) => ({ type: 'finish', finishReason: reason, usage: { inputTokens: 1, outputTokens: 1 } });
  return {
    id: DIRECTED_MODEL_ID,
    async *stream(request) {
      const last = request.messages.at(-1);
      if (last?.role === 'user') {
        const instruction = JSON.parse(last.content);
        yield {
          type: 'tool-call',
          toolCallId: `call_${Date.now()}`,
          toolName: instruction.call,
          input: instruction.input,
        };
        yield finish('tool-calls');
        return;
      }
      yield { type: 'text-delta', text: 'done' };
      yield finish('stop');
    },
  };
}

/**
 * The address browsers and authorization servers are told (PUBLIC_URL). Nothing listens there:
 * `signIn` delivers what is redirected to it to the real listener, as a reverse proxy in front
 * of Parley would — so Parley can listen on a port of the system's choosing (scenarios run in
 * parallel, and a port picked in advance could be taken by then).
 */
const PUBLIC_URL = 'http://parley.conformance.invalid';

async function startParley() {
  const config = loadConfig({
    DATABASE_URL: 'sqlite::memory:',
    PARLEY_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
    HOST: '127.0.0.1',
    PORT: '0',
    PUBLIC_URL,
    LOG_LEVEL: 'warn',
    // The suite's mock servers listen on localhost: the operator allows loopback.
    OUTBOUND_ALLOW: '127.0.0.1,localhost,::1',
    MCP_HEALTH_CHECK_INTERVAL_MS: '0',
    // Where the operator publishes Parley's client metadata document; the suite's authorization
    // server takes this one URL as a known document (auth/basic-cimd).
    MCP_OAUTH_CLIENT_METADATA_URL: 'https://conformance-test.local/client-metadata.json',
  });
  const store = await openStore(config.database);
  const real = createModelRegistry(config.models);
  const directed = directedModel();
  const models = { resolve: (id) => (id === DIRECTED_MODEL_ID ? directed : real.resolve(id)) };
  const parley = await createApp({ config, store, models, logStream: process.stderr });
  const bootstrap = await parley.keys.bootstrap();
  const base = await parley.app.listen({ port: 0, host: '127.0.0.1' });
  const close = async () => {
    await parley.shutdown(1000);
    await store.close();
  };
  return { base, key: bootstrap.key, close };
}

function api(base, key) {
  return async (method, path, body) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed = text ? JSON.parse(text) : null;
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return parsed;
  };
}

/**
 * What a consenting user's browser does with an authorization URL: follow the redirects to
 * Parley's callback under PUBLIC_URL, which reaches Parley at `base`.
 */
async function signIn(authorizationUrl, base) {
  let url = authorizationUrl;
  for (let hop = 0; hop < 5; hop += 1) {
    const target = url.startsWith(PUBLIC_URL) ? `${base}${url.slice(PUBLIC_URL.length)}` : url;
    const response = await fetch(target, { redirect: 'manual', headers: { accept: 'application/json' } });
    const location = response.headers.get('location');
    if (!location) {
      const body = await response.text();
      if (!response.ok) throw new Error(`sign-in stopped at ${url}: ${response.status} ${body}`);
      return;
    }
    url = new URL(location, url).href;
  }
  throw new Error('sign-in: too many redirects');
}

async function main() {
  if (!serverUrl) throw new Error('usage: MCP_CONFORMANCE_SCENARIO=<name> node client.js <server-url>');
  const parley = await startParley();
  try {
    const call = api(parley.base, parley.key);
    const agent = await call('POST', '/api/v1/agents', {
      name: `conformance ${scenario}`,
      template_id: SUPPORT_TEMPLATE_ID,
      configuration: { model: DIRECTED_MODEL_ID, max_steps: 2 },
    });
    const servers = `/api/v1/mcp/agents/${agent.id}/servers`;
    const authConfig = context.client_id
      ? { type: 'oauth2', client_id: context.client_id, client_secret: context.client_secret }
      : null;
    const server = await call('POST', servers, { name: 'conformance', url: serverUrl, auth_config: authConfig });
    const connect = async () => {
      const answer = await call('POST', `${servers}/${server.id}/connect`);
      if (answer.authorization_url) await signIn(answer.authorization_url, parley.base);
    };
    await connect();
    const tools = await call('GET', `${servers}/${server.id}/tools`);
    const thread = await call('POST', `/api/v1/chat/${agent.id}/threads`, { agent_id: agent.id, title: scenario });
    const runTool = (tool, input) =>
      call('POST', `/api/v1/chat/${agent.id}/threads/${thread.id}/messages`, {
        role: 'user',
        content: JSON.stringify({ call: tool.tool_name, input }),
      });
    for (const tool of tools) {
      const input = argumentsFor(tool, tools);
      await runTool(tool, input);
      const after = await call('GET', `${servers}/${server.id}`);
      if (after.status === 'needs_authorization') {
        await connect();
        await runTool(tool, input);
      }
    }
  } finally {
    await parley.close();
  }
}

/**
 * `{}` unless the tool is known; the schema-echo tool of json-schema-2020-12-preservation gets
 * the input schema Parley stored (and gave the model) for the scenario's other tool.
 */
function argumentsFor(tool, tools) {
  const name = tool.configuration?.mcp_tool_name ?? tool.tool_name;
  if (TOOL_ARGUMENTS[name]) return TOOL_ARGUMENTS[name];
  const schema = tool.configuration?.input_schema;
  if (schema?.required?.length === 1 && schema.required[0] === 'schema') {
    const other = tools.find((candidate) => candidate !== tool);
    return { schema: other?.configuration?.input_schema ?? {} };
  }
  return {};
}

try {
  await main();
  process.exit(0);
} catch (error) {
  console.error(error);
  process.exit(1);
}
