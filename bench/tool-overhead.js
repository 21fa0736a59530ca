import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from 'undici';
import { makeTempDir, startNode, stopChild, waitForOutput } from './lib/children.js';
import { runIfMain } from './lib/main.js';
import { apiClient, createThreads, startParley, stopParley } from './lib/parley.js';
import { requestJson } from './lib/http-json.js';
import { hrtimeMs, streamEvents } from './lib/sse.js';
import { fixed, markdownTable, summarize, textTable } from './lib/stats.js';

/**
 * Tool-call overhead: what one external tool call costs in a run, against the same HTTP request
 * made directly.
 *
 * A loopback upstream (bench/lib/tool-upstream.js, its own process) answers `GET /current-time`
 * with a small JSON body. Parley runs with `OUTBOUND_ALLOW=127.0.0.1` and the offline demo model
 * at full speed (`DEMO_MODEL_WORDS_PER_SECOND=0`). The demo model calls a tool named
 * `current_time` when the user's words mention the time (src/models/providers/demo/demo-model.ts),
 * so three agents answer the same message, "what time is it?":
 *
 * - `none`: no tool — one model step, a canned answer;
 * - `built-in`: the built-in `current_time` — two model steps around an in-process tool;
 * - `external`: an `external_tool` named `current_time` whose URL is the upstream's — two model
 *   steps around one HTTP call through the guarded outbound client.
 *
 * Each run is `POST …/messages/stream` on a fresh thread, read to its end. The server stores a
 * tool call's start and end as ISO timestamps (millisecond resolution: too coarse for a 2 ms aim),
 * so the tool step is timed here, on the monotonic clock, as the interval between the arrival of
 * its `tool-call-start` and `tool-call-end` events (tool-calls.ts publishes the first once the call
 * is recorded and the second once its result is stored: the interval is the tool running plus the
 * result's write). The baseline is the same request made by this process through an undici Agent
 * (keep-alive, one warm connection — as Parley's outbound client keeps its own). Direct requests
 * and the three kinds of run are interleaved, one at a time, so drift in machine load hits all.
 */

const UPSTREAM_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'tool-upstream.js');
const MESSAGE = 'what time is it?';

const settings = {
  runs: Number(process.env.BENCH_TOOL_RUNS ?? 1000),
  warmupRuns: Number(process.env.BENCH_TOOL_WARMUP_RUNS ?? 100),
  /** Direct requests per iteration: the baseline gets more samples than each kind of run. */
  directPerRun: 2,
};

/** The aim from the issue: an external tool call adds under 2 ms at p99. */
export const AIM_ADDED_P99_MS = 2;

const KINDS = ['none', 'built-in', 'external'];

export const benchmark = {
  name: 'tool-overhead',
  deadlineMs: 20 * 60_000,
  run,
  render,
};

export async function run() {
  const failures = [];
  const directory = makeTempDir('parley-tools-');
  const upstream = startNode({ name: 'tool-upstream', script: UPSTREAM_SCRIPT });
  const upstreamPort = Number((await waitForOutput(upstream, /^listening on (\d+)$/m))[1]);
  const upstreamOrigin = `http://127.0.0.1:${upstreamPort}`;
  const parley = await startParley({
    databaseFile: path.join(directory, 'parley.db'),
    env: { OUTBOUND_ALLOW: '127.0.0.1', DEMO_MODEL_WORDS_PER_SECOND: '0' },
  });
  const api = apiClient(parley);
  const agents = {
    none: await api.createAgent({ model: 'demo' }),
    'built-in': await api.createAgent({ model: 'demo' }),
    external: await api.createAgent({ model: 'demo' }),
  };
  await addTool(parley, api, agents['built-in'].id, { tool_name: 'current_time', tool_type: 'built_in' });
  await addTool(parley, api, agents.external.id, {
    tool_name: 'current_time',
    tool_type: 'external_tool',
    configuration: {
      description: 'The current time (UTC) from the loopback upstream.',
      method: 'GET',
      url: `${upstreamOrigin}/current-time`,
      input_schema: { type: 'object', properties: {}, additionalProperties: false },
    },
  });
  const total = settings.warmupRuns + settings.runs;
  console.log(`tool-call overhead: creating ${KINDS.length} × ${total} threads`);
  const threads = {};
  for (const kind of KINDS) threads[kind] = await createThreads(api, agents[kind].id, total);

  // One warm connection for the direct requests (undici, as Parley's outbound client uses).
  const directAgent = new Agent();
  const samples = {
    direct: [],
    runMs: { none: [], 'built-in': [], external: [] },
    stepMs: { 'built-in': [], external: [] },
    recordedMs: { 'built-in': [], external: [] },
  };
  console.log(
    `tool-call overhead: ${settings.runs} runs of each kind (after ${settings.warmupRuns} warm-up), ` +
      `${settings.directPerRun} direct requests per iteration, interleaved`,
  );
  for (let index = 0; index < total; index += 1) {
    const measured = index >= settings.warmupRuns;
    for (let request = 0; request < settings.directPerRun; request += 1) {
      const outcome = await directRequest(directAgent, upstreamOrigin);
      if (outcome.problem) failures.push(`direct request ${index + 1}: ${outcome.problem}`);
      else if (measured) samples.direct.push(outcome.ms);
    }
    for (const kind of KINDS) {
      const outcome = await oneRun({ parley, api, agentId: agents[kind].id, threadId: threads[kind][index], kind });
      if (outcome.problem) {
        failures.push(`${kind} run ${index + 1}: ${outcome.problem}`);
        continue;
      }
      if (!measured) continue;
      samples.runMs[kind].push(outcome.runMs);
      if (kind !== 'none') {
        samples.stepMs[kind].push(outcome.stepMs);
        samples.recordedMs[kind].push(outcome.recordedMs);
      }
    }
    if (failures.length > 20) throw new Error(`too many failures:\n${failures.join('\n')}`);
  }
  await directAgent.close();
  streamAgent.destroy();
  const upstreamServed = (await requestJson({ url: `${upstreamOrigin}/healthz` })).json.served;
  const expectedServed = total * (settings.directPerRun + 1);
  if (upstreamServed !== expectedServed)
    failures.push(`the upstream served ${upstreamServed} requests; expected ${expectedServed}`);
  const stopped = await stopParley(parley);
  if (!stopped.clean) failures.push(`Parley did not stop cleanly: ${JSON.stringify(stopped)}`);
  await stopChild(upstream);

  const result = {
    name: benchmark.name,
    settings,
    direct: summarize(samples.direct),
    runs: Object.fromEntries(KINDS.map((kind) => [kind, summarize(samples.runMs[kind])])),
    steps: Object.fromEntries(['built-in', 'external'].map((kind) => [kind, summarize(samples.stepMs[kind])])),
    recorded: Object.fromEntries(['built-in', 'external'].map((kind) => [kind, summarize(samples.recordedMs[kind])])),
    failures,
  };
  result.added = {
    // The headline: the external tool step against the bare HTTP request.
    stepP50Ms: result.steps.external.p50 - result.direct.p50,
    stepP99Ms: result.steps.external.p99 - result.direct.p99,
    // The HTTP call alone inside Parley: external step minus built-in step (the same recording).
    httpP50Ms: result.steps.external.p50 - result.steps['built-in'].p50 - result.direct.p50,
    // Whole runs: a tool step end to end, and an external tool against a built-in one.
    runP50Ms: result.runs.external.p50 - result.runs.none.p50,
    runP99Ms: result.runs.external.p99 - result.runs.none.p99,
    runVsBuiltInP50Ms: result.runs.external.p50 - result.runs['built-in'].p50,
    runVsBuiltInP99Ms: result.runs.external.p99 - result.runs['built-in'].p99,
  };
  result.aimMet = result.added.stepP99Ms < AIM_ADDED_P99_MS;
  for (const table of tablesOf(result)) console.log(`\n${textTable(...table)}`);
  console.log(
    `\nadded by the external tool step, p99: ${fixed(result.added.stepP99Ms)} ms ` +
      `(aim < ${AIM_ADDED_P99_MS} ms: ${result.aimMet ? 'met' : 'NOT met'})`,
  );
  return result;
}

async function addTool(parley, api, agentId, tool) {
  const response = await requestJson({
    url: `${parley.baseUrl}/api/v1/agents/${agentId}/tools`,
    method: 'POST',
    headers: api.headers,
    body: tool,
  });
  if (response.status !== 200)
    throw new Error(`adding ${tool.tool_name} answered ${response.status}: ${response.text}`);
  return response.json;
}

/** The baseline: the upstream's answer read whole and parsed, as the external tool does. */
async function directRequest(agent, origin) {
  const started = hrtimeMs();
  try {
    const response = await agent.request({ origin, path: '/current-time', method: 'GET' });
    const body = await response.body.text();
    const ms = hrtimeMs() - started;
    if (response.statusCode !== 200) return { problem: `status ${response.statusCode}` };
    if (typeof JSON.parse(body).iso !== 'string') return { problem: `unexpected body ${body}` };
    return { ms };
  } catch (error) {
    return { problem: error.message };
  }
}

/** The runs' streams share one warm connection, as a client would. */
const streamAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/**
 * One run, read to the end of its stream: its latency (request sent → `run-end` arrived), and for
 * a run with a tool the step's interval here and the duration the server recorded (ms resolution).
 */
async function oneRun({ parley, api, agentId, threadId, kind }) {
  let problem = null;
  let endedAt = null;
  let stepStartedAt = null;
  let stepEndedAt = null;
  let recordedMs = null;
  let startTime = null;
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
      else if (event.event === 'tool-call-start') {
        stepStartedAt = receivedAt;
        startTime = JSON.parse(event.data).start_time;
      } else if (event.event === 'tool-call-end') {
        stepEndedAt = receivedAt;
        const data = JSON.parse(event.data);
        recordedMs = Date.parse(data.end_time) - Date.parse(startTime);
        if (data.error !== null) problem = `the tool call failed: ${data.error}`;
        else if (kind === 'external' && (data.result?.status !== 200 || typeof data.result.body?.iso !== 'string'))
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
  if (problem) return { problem };
  if (endedAt === null) return { problem: 'the stream ended without run-end' };
  const calledTool = stepStartedAt !== null && stepEndedAt !== null;
  if (calledTool !== (kind !== 'none')) return { problem: `tool called: ${calledTool}` };
  // The demo model answers from the result ("It is …"); the external result is {status, body}.
  if (kind !== 'none' && !text.startsWith('It is ')) return { problem: `unexpected answer "${text}"` };
  return { runMs: endedAt - sentAt, stepMs: stepEndedAt - stepStartedAt, recordedMs };
}

function tablesOf(result) {
  const header = ['measured', 'samples', 'p50 ms', 'p99 ms', 'max ms'];
  const row = (label, figures) => [
    label,
    String(figures.count),
    fixed(figures.p50, 3),
    fixed(figures.p99, 3),
    fixed(figures.max, 3),
  ];
  return [
    [
      header,
      [
        row('HTTP request made directly (baseline)', result.direct),
        row('tool step, external tool (start → end event)', result.steps.external),
        row('tool step, built-in current_time', result.steps['built-in']),
        row('tool call as recorded, external (ms resolution)', result.recorded.external),
        row('tool call as recorded, built-in (ms resolution)', result.recorded['built-in']),
      ],
    ],
    [
      header,
      [
        row('whole run, no tool', result.runs.none),
        row('whole run, built-in current_time', result.runs['built-in']),
        row('whole run, external tool', result.runs.external),
      ],
    ],
  ];
}

export function render(result) {
  const { settings: s, added } = result;
  const [steps, runs] = tablesOf(result);
  return [
    '### Tool-call overhead: one external tool call vs. the same HTTP request made directly',
    '',
    'A loopback upstream (`bench/lib/tool-upstream.js`, its own process) answers `GET /current-time` with about 90 ' +
      'bytes of JSON. Parley runs with `OUTBOUND_ALLOW=127.0.0.1` and the offline demo model at full speed ' +
      '(`DEMO_MODEL_WORDS_PER_SECOND=0`), which calls a tool named `current_time` when the user asks the time. Three ' +
      'agents get the same message, "what time is it?", each run on a fresh thread through `POST …/messages/stream`: ' +
      'one with no tool (one model step), one with the built-in `current_time` (two model steps around an in-process ' +
      'tool), one with an `external_tool` named `current_time` on the upstream’s URL (two model steps around one HTTP ' +
      'call through the guarded outbound client). **Baseline:** the benchmark makes the same request itself through an ' +
      'undici Agent, one warm keep-alive connection (Parley’s outbound client keeps its own). ' +
      `${s.runs} measured runs of each kind and ${s.runs * s.directPerRun} direct requests (after ${s.warmupRuns} ` +
      'warm-up iterations), one at a time, interleaved.',
    '',
    'The server stores a tool call’s `start_time`/`end_time` as ISO timestamps, to the millisecond — too coarse ' +
      'for this aim — so the **tool step** is timed by the client on the monotonic clock: from the arrival of its ' +
      '`tool-call-start` event (sent once the call is recorded) to that of its `tool-call-end` (sent once the result ' +
      'is stored). It is the tool running plus the write of its result. The recorded durations are shown too.',
    '',
    markdownTable(...steps),
    '',
    markdownTable(...runs),
    '',
    `Added by an external tool call over the direct request: p50 ${fixed(added.stepP50Ms, 3)} ms, ` +
      `**p99 ${fixed(added.stepP99Ms, 3)} ms** (aim: under ${AIM_ADDED_P99_MS} ms — ` +
      `**${result.aimMet ? 'met' : 'not met'}**). Of the p50, the HTTP call through the outbound client accounts ` +
      `for ${fixed(added.httpP50Ms, 3)} ms over the direct request (external step − built-in step − direct); the ` +
      'rest is recording the result, which every tool pays. End to end, a run that calls the external tool takes ' +
      `${fixed(added.runP50Ms, 2)} ms (p50) / ${fixed(added.runP99Ms, 2)} ms (p99) longer than one with no tool — ` +
      'a second model step, the tool call’s rows and events — and ' +
      `${fixed(added.runVsBuiltInP50Ms, 2)} ms / ${fixed(added.runVsBuiltInP99Ms, 2)} ms longer than one calling ` +
      'the built-in tool. Differences are of percentiles, not percentiles of differences.',
  ].join('\n');
}

runIfMain(import.meta.url, benchmark);
