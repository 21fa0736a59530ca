import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { makeTempDir, startNode, stopChild, waitForOutput } from './lib/children.js';
import { runIfMain } from './lib/main.js';
import { apiClient, createThreads, ROOT, startParley, stopParley } from './lib/parley.js';
import { requestJson } from './lib/http-json.js';
import { hrtimeMs, streamEvents } from './lib/sse.js';
import { fixed, summarize, textTable } from './lib/stats.js';

/**
 * MCP tool calls: what Parley adds to one `tools/call`, and what its connection pool saves.
 * One round (bench/mcp.js runs several, each in a fresh process, and reports their medians).
 *
 * A loopback MCP server (bench/lib/mcp-echo-server.js, its own process: the SDK's McpServer over
 * StreamableHTTPServerTransport, one `echo` tool) is called three ways, always `echo` with `{}`:
 *
 * 1. **Tool call in this process.** Baseline: the SDK's `Client` over
 *    `StreamableHTTPClientTransport` with the platform fetch, connected once. Parley: the MCP
 *    Tool a run resolves (dist/mcp/mcp-tool.js `mcpTool`, with the configuration the catalogue
 *    stores) run through dist/runtime/tool-runner.js `runTool` — the run's timeout and abort
 *    signal, the pooled connection (dist/mcp/mcp-connection-pool.js), the guarded outbound fetch
 *    (dist/outbound/), the result mapped and serialised. Sequential calls, the two interleaved.
 * 2. **Whole runs through the HTTP API** (`node dist/cli/main.js serve` in its own process, the
 *    offline demo model at full speed, which calls a tool named `current_time` when asked the
 *    time): one agent has the built-in `current_time` (in-process, no I/O), the other an
 *    `mcp_server` tool named `current_time` whose `mcp_tool_name` is `echo` on the same server.
 *    Same message, same model steps: the difference is the MCP call. Timed as in
 *    bench/tool-overhead.js: the whole run, and the tool step (`tool-call-start` →
 *    `tool-call-end` events, the call plus the write of its result).
 * 3. **Connection reuse.** Calls per second for a fixed time through Parley's pool: one pooled
 *    connection, 1 and 16 callers; against a new connection per call (a fresh pool: connect,
 *    `initialize`, `notifications/initialized`, the call, close), 1 and 16 callers.
 */

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const SERVER_SCRIPT = path.join(BENCH_DIR, 'lib', 'mcp-echo-server.js');
const DIST = path.join(ROOT, 'dist');
const MESSAGE = 'what time is it?';
const ARGUMENTS = {};
/** The tool timeout a run would apply (TOOL_TIMEOUT_MS's default is larger; it never fires here). */
const TOOL_TIMEOUT_MS = 30_000;

const settings = {
  calls: Number(process.env.BENCH_MCP_CALLS ?? 2000),
  warmupCalls: Number(process.env.BENCH_MCP_WARMUP_CALLS ?? 200),
  runs: Number(process.env.BENCH_MCP_RUNS ?? 500),
  warmupRuns: Number(process.env.BENCH_MCP_WARMUP_RUNS ?? 50),
  reuseSeconds: Number(process.env.BENCH_MCP_REUSE_SECONDS ?? 3),
  concurrencies: [1, 16],
};

export const benchmark = {
  name: 'mcp-overhead',
  deadlineMs: 20 * 60_000,
  run,
  render: () => '',
};

/** The parts of Parley measured in this process, from the build (dist/ does not export them). */
async function parleyModules() {
  const load = (file) => import(path.join(DIST, file));
  const [pool, tool, runner, outbound, allow, authorization] = await Promise.all([
    load('mcp/mcp-connection-pool.js'),
    load('mcp/mcp-tool.js'),
    load('runtime/tool-runner.js'),
    load('outbound/outbound-client.js'),
    load('outbound/allow-list.js'),
    load('mcp/mcp-authorization.js'),
  ]);
  return {
    McpConnectionPool: pool.McpConnectionPool,
    mcpTool: tool.mcpTool,
    runTool: runner.runTool,
    createOutboundClient: outbound.createOutboundClient,
    parseOutboundAllow: allow.parseOutboundAllow,
    noAuthorization: authorization.noAuthorization,
  };
}

const silentLog = {
  level: 'silent',
  fatal() {},
  error() {},
  warn() {},
  info() {},
  debug() {},
  trace() {},
  child() {
    return silentLog;
  },
};

export async function run() {
  const failures = [];
  const modules = await parleyModules();
  const server = startNode({ name: 'mcp-echo-server', script: SERVER_SCRIPT });
  const port = Number((await waitForOutput(server, /^listening on (\d+)$/m))[1]);
  const origin = `http://127.0.0.1:${port}`;
  const mcpUrl = `${origin}/mcp`;
  const counts = async () => (await requestJson({ url: `${origin}/healthz` })).json;

  // The guarded client a Parley process makes (OUTBOUND_ALLOW=127.0.0.1), and the tool's
  // configuration as the catalogue stores it (read from the server's tools/list).
  const outbound = modules.createOutboundClient({ allow: modules.parseOutboundAllow('127.0.0.1') });
  const direct = await connectDirect(mcpUrl);
  const definition = (await direct.listTools()).tools.find((tool) => tool.name === 'echo');
  const configuration = {
    mcp_tool_name: definition.name,
    description: definition.description,
    input_schema: definition.inputSchema,
  };
  const ref = { organizationId: 'bench', serverId: 'bench-echo', url: mcpUrl, authConfig: null };
  const newPool = () =>
    new modules.McpConnectionPool({
      fetch: outbound.fetch,
      authorization: modules.noAuthorization,
      onToolsChanged: () => undefined,
      log: silentLog,
    });
  const pooledTool = (pool) => modules.mcpTool({ name: 'echo', configuration, server: ref, pool });
  const callThrough = async (tool) => {
    const outcome = await modules.runTool({
      tool,
      toolName: tool.name,
      arguments: ARGUMENTS,
      timeoutMs: TOOL_TIMEOUT_MS,
      signal: new AbortController().signal,
      now: () => new Date(),
    });
    if (!outcome.ok) throw new Error(outcome.error);
    if (outcome.result?.content?.[0]?.text !== 'echo: ') throw new Error(`unexpected result ${outcome.json}`);
  };
  const callDirect = async (client) => {
    const result = await client.callTool({ name: 'echo', arguments: ARGUMENTS }, CallToolResultSchema);
    if (result.content?.[0]?.text !== 'echo: ') throw new Error(`unexpected result ${JSON.stringify(result)}`);
  };
  let callsMade = 0;

  // 1. One call at a time, SDK client directly vs Parley's tool, interleaved.
  const pool = newPool();
  const tool = pooledTool(pool);
  const calls = { direct: [], parley: [] };
  console.log(`mcp: ${settings.calls} calls each way (after ${settings.warmupCalls} warm-up), interleaved`);
  for (let index = 0; index < settings.warmupCalls + settings.calls; index += 1) {
    const measured = index >= settings.warmupCalls;
    for (const [kind, call] of [
      ['direct', () => callDirect(direct)],
      ['parley', () => callThrough(tool)],
    ]) {
      const started = hrtimeMs();
      try {
        await call();
        callsMade += 1;
        if (measured) calls[kind].push(hrtimeMs() - started);
      } catch (error) {
        failures.push(`${kind} call ${index + 1}: ${error.message}`);
      }
    }
    if (failures.length > 20) throw new Error(`too many failures:\n${failures.join('\n')}`);
  }

  // 3 (before the runs, which would load the server with a second client). Connection reuse.
  const reuse = [];
  // The pooled rows first: the per-call rows leave the server many sessions to manage.
  for (const mode of ['pooled', 'new connection per call']) {
    for (const concurrency of settings.concurrencies) {
      const call =
        mode === 'pooled'
          ? () => callThrough(tool)
          : async () => {
              const fresh = newPool();
              try {
                await callThrough(pooledTool(fresh));
              } finally {
                await fresh.closeAll();
              }
            };
      const before = (await counts()).initializations;
      const outcome = await throughput(call, concurrency, settings.reuseSeconds * 1000);
      const initializations = (await counts()).initializations - before;
      callsMade += outcome.calls;
      for (const problem of outcome.problems.slice(0, 5)) failures.push(`${mode}, ${concurrency} callers: ${problem}`);
      reuse.push({ mode, concurrency, ...outcome, problems: outcome.problems.length, initializations });
      console.log(
        `mcp: ${mode}, ${concurrency} callers: ${fixed(outcome.callsPerSecond, 0)} calls/s ` +
          `(${outcome.calls} calls, ${initializations} sessions initialised)`,
      );
    }
  }
  const poolSizeAfter = pool.size;
  await pool.closeAll();
  await direct.close();

  // 2. Whole runs through the HTTP API: built-in current_time vs the MCP echo named current_time.
  const runs = await measureRuns({ mcpUrl, failures, counts });
  callsMade += runs.mcpCalls;

  const served = await counts();
  if (served.calls !== callsMade) failures.push(`the MCP server served ${served.calls} calls; expected ${callsMade}`);
  await outbound.close();
  await stopChild(server);

  const result = {
    name: benchmark.name,
    settings,
    calls: { direct: summarize(calls.direct), parley: summarize(calls.parley) },
    runs: runs.summary,
    sentByRuns: runs.sent,
    reuse,
    pooledConnectionsAfter: poolSizeAfter,
    server: served,
    failures,
  };
  result.added = {
    callP50Ms: result.calls.parley.p50 - result.calls.direct.p50,
    callP99Ms: result.calls.parley.p99 - result.calls.direct.p99,
    stepP50Ms: result.runs.steps.mcp.p50 - result.runs.steps['built-in'].p50,
    stepP99Ms: result.runs.steps.mcp.p99 - result.runs.steps['built-in'].p99,
    runP50Ms: result.runs.runs.mcp.p50 - result.runs.runs['built-in'].p50,
    runP99Ms: result.runs.runs.mcp.p99 - result.runs.runs['built-in'].p99,
  };
  result.reuseRatio = Object.fromEntries(
    settings.concurrencies.map((concurrency) => {
      const of = (mode) => reuse.find((entry) => entry.mode === mode && entry.concurrency === concurrency);
      return [concurrency, of('pooled').callsPerSecond / of('new connection per call').callsPerSecond];
    }),
  );
  printResult(result);
  return result;
}

async function connectDirect(url) {
  const client = new Client({ name: 'parley-bench-direct', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

/** `concurrency` callers, each calling again as soon as its call ends, for `durationMs`. */
async function throughput(call, concurrency, durationMs) {
  const problems = [];
  let calls = 0;
  const started = hrtimeMs();
  const end = started + durationMs;
  const caller = async () => {
    while (hrtimeMs() < end) {
      try {
        await call();
        calls += 1;
      } catch (error) {
        problems.push(error.message);
        if (problems.length > 50) return;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  const seconds = (hrtimeMs() - started) / 1000;
  return { calls, seconds, callsPerSecond: calls / seconds, problems };
}

const KINDS = ['built-in', 'mcp'];

async function measureRuns({ mcpUrl, failures, counts }) {
  const directory = makeTempDir('parley-mcp-bench-');
  const parley = await startParley({
    databaseFile: path.join(directory, 'parley.db'),
    env: { OUTBOUND_ALLOW: '127.0.0.1', DEMO_MODEL_WORDS_PER_SECOND: '0', MCP_HEALTH_CHECK_INTERVAL_MS: '0' },
  });
  const api = apiClient(parley);
  const call = async (method, route, body, expected = 200) => {
    const response = await requestJson({ url: `${parley.baseUrl}${route}`, method, headers: api.headers, body });
    if (response.status !== expected)
      throw new Error(`${method} ${route} answered ${response.status}: ${response.text}`);
    return response.json;
  };
  const agents = {
    'built-in': await api.createAgent({ model: 'demo' }),
    mcp: await api.createAgent({ model: 'demo' }),
  };
  await call('POST', `/api/v1/agents/${agents['built-in'].id}/tools`, {
    tool_name: 'current_time',
    tool_type: 'built_in',
  });
  const servers = `/api/v1/mcp/agents/${agents.mcp.id}/servers`;
  const registered = await call('POST', servers, { name: 'Echo', url: mcpUrl });
  const connect = await call('POST', `${servers}/${registered.id}/connect`);
  if (connect.status !== 'success') throw new Error(`connect answered ${JSON.stringify(connect)}`);
  // The catalogue made an `echo` row; the run's tool is `current_time` on the same MCP tool (so the
  // demo model calls it), and `echo` is disabled: both agents offer the model one tool.
  const synced = await call('GET', `${servers}/${registered.id}/tools`);
  const echo = synced.find((tool) => tool.tool_name === 'echo');
  await call('PATCH', `/api/v1/agents/${agents.mcp.id}/tools/${echo.id}`, { is_enabled: false });
  await call('POST', `/api/v1/agents/${agents.mcp.id}/tools`, {
    tool_name: 'current_time',
    tool_type: 'mcp_server',
    mcp_server_id: registered.id,
    configuration: { ...echo.configuration, mcp_tool_name: 'echo' },
  });

  const total = settings.warmupRuns + settings.runs;
  console.log(`mcp: ${settings.runs} runs of each kind (after ${settings.warmupRuns} warm-up), interleaved`);
  const threads = {};
  for (const kind of KINDS) threads[kind] = await createThreads(api, agents[kind].id, total);
  const samples = { runMs: { 'built-in': [], mcp: [] }, stepMs: { 'built-in': [], mcp: [] } };
  let mcpCalls = 0;
  const methodsBefore = (await counts()).methods;
  for (let index = 0; index < total; index += 1) {
    for (const kind of KINDS) {
      const outcome = await oneRun({ parley, api, agentId: agents[kind].id, threadId: threads[kind][index], kind });
      if (kind === 'mcp' && outcome.called) mcpCalls += 1;
      if (outcome.problem) {
        failures.push(`${kind} run ${index + 1}: ${outcome.problem}`);
        continue;
      }
      if (index < settings.warmupRuns) continue;
      samples.runMs[kind].push(outcome.runMs);
      samples.stepMs[kind].push(outcome.stepMs);
    }
    if (failures.length > 20) throw new Error(`too many failures:\n${failures.join('\n')}`);
  }
  streamAgent.destroy();
  // What the runs sent the MCP server: one tools/call per run, nothing else (no list, no reconnect).
  const methodsAfter = (await counts()).methods;
  const sent = Object.fromEntries(
    Object.keys(methodsAfter)
      .map((method) => [method, methodsAfter[method] - (methodsBefore[method] ?? 0)])
      .filter(([, count]) => count > 0),
  );
  if (JSON.stringify(sent) !== JSON.stringify({ 'tools/call': mcpCalls }))
    failures.push(`the runs sent the MCP server ${JSON.stringify(sent)}; expected ${mcpCalls} tools/call only`);
  const stopped = await stopParley(parley);
  if (!stopped.clean) failures.push(`Parley did not stop cleanly: ${JSON.stringify(stopped)}`);
  return {
    mcpCalls,
    sent,
    summary: {
      runs: Object.fromEntries(KINDS.map((kind) => [kind, summarize(samples.runMs[kind])])),
      steps: Object.fromEntries(KINDS.map((kind) => [kind, summarize(samples.stepMs[kind])])),
    },
  };
}

/** The runs' streams share one warm connection, as a client would. */
const streamAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One run read to the end of its stream: its latency, and the tool step's (start → end event). */
async function oneRun({ parley, api, agentId, threadId, kind }) {
  let problem = null;
  let endedAt = null;
  let stepStartedAt = null;
  let stepEndedAt = null;
  let text = '';
  const sentAt = hrtimeMs();
  await streamEvents({
    url: `${parley.baseUrl}/api/v1/chat/${agentId}/threads/${threadId}/messages/stream`,
    method: 'POST',
    agent: streamAgent,
    headers: api.headers,
    body: { role: 'user', content: MESSAGE },
    timeoutMs: 30_000,
    onEvent: (event, receivedAt) => {
      if (event.event === 'text-delta') text += JSON.parse(event.data).delta;
      else if (event.event === 'tool-call-start') stepStartedAt = receivedAt;
      else if (event.event === 'tool-call-end') {
        stepEndedAt = receivedAt;
        const data = JSON.parse(event.data);
        if (data.error !== null) problem = `the tool call failed: ${data.error}`;
        else if (kind === 'mcp' && data.result?.content?.[0]?.text !== 'echo: ')
          problem = `unexpected result ${JSON.stringify(data.result)}`;
      } else if (event.event === 'run-end') {
        endedAt = receivedAt;
        const { status } = JSON.parse(event.data);
        if (status !== 'completed') problem = `run ended with status ${status}`;
      } else if (event.event === 'run-error' || event.event === 'error') {
        problem = `${event.event}: ${event.data}`;
      }
    },
  }).catch((error) => (problem = error.message));
  const called = stepStartedAt !== null && stepEndedAt !== null;
  if (problem) return { problem, called };
  if (endedAt === null) return { problem: 'the stream ended without run-end', called };
  if (!called) return { problem: 'the tool was not called', called };
  // The demo model answers from the result ("It is …").
  if (!text.startsWith('It is ')) return { problem: `unexpected answer "${text}"`, called };
  return { runMs: endedAt - sentAt, stepMs: stepEndedAt - stepStartedAt, called };
}

function printResult(result) {
  const header = ['measured', 'samples', 'p50 ms', 'p99 ms', 'max ms'];
  const row = (label, figures) => [
    label,
    String(figures.count),
    fixed(figures.p50, 3),
    fixed(figures.p99, 3),
    fixed(figures.max, 3),
  ];
  console.log(
    `\n${textTable(header, [
      row('tools/call, SDK client directly', result.calls.direct),
      row('tools/call, Parley MCP tool (runTool)', result.calls.parley),
      row('tool step, built-in current_time', result.runs.steps['built-in']),
      row('tool step, MCP echo', result.runs.steps.mcp),
      row('whole run, built-in current_time', result.runs.runs['built-in']),
      row('whole run, MCP echo', result.runs.runs.mcp),
    ])}`,
  );
  console.log(
    `\nadded by Parley to a call: p50 ${fixed(result.added.callP50Ms, 3)} ms, p99 ${fixed(result.added.callP99Ms, 3)} ms; ` +
      `MCP step over built-in: p50 ${fixed(result.added.stepP50Ms, 3)} ms, p99 ${fixed(result.added.stepP99Ms, 3)} ms; ` +
      `pooled / new connection: ${Object.entries(result.reuseRatio)
        .map(([concurrency, ratio]) => `${fixed(ratio, 1)}× at ${concurrency}`)
        .join(', ')}`,
  );
}

runIfMain(import.meta.url, benchmark);
