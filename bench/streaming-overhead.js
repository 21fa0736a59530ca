import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir, startNode, stopChild, waitForOutput } from './lib/children.js';
import { timestampsIn } from './lib/fake-openai.js';
import { runIfMain } from './lib/main.js';
import { apiClient, createThreads, startParley, stopParley } from './lib/parley.js';
import { streamEvents } from './lib/sse.js';
import { fixed, markdownTable, summarize, textTable } from './lib/stats.js';

/**
 * Streaming overhead: how much later a token reaches an SSE client through Parley than it would
 * reading the model directly.
 *
 * A fake OpenAI-compatible server (its own process) streams one token every INTERVAL_MS; each
 * token's text is its send time on the monotonic clock. Baseline: this process reads the fake
 * directly. Parley: the same fake behind `openai-compatible:fake/bench`, read through
 * `POST …/messages/stream`. Latency of a token = arrival time here − its send time there. The
 * two are measured alternately, one reply at a time, so drift in machine load hits both alike.
 */

const FAKE_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'fake-openai.js');

const settings = {
  tokens: Number(process.env.BENCH_OVERHEAD_TOKENS ?? 200),
  intervalMs: Number(process.env.BENCH_OVERHEAD_INTERVAL_MS ?? 10),
  replies: Number(process.env.BENCH_OVERHEAD_REPLIES ?? 5),
  warmupReplies: 1,
};

/** The aim from the issue: p99 added latency under 5 ms. */
export const AIM_ADDED_P99_MS = 5;

export const benchmark = {
  name: 'streaming-overhead',
  deadlineMs: 90_000,
  run,
  render,
};

export async function run() {
  const failures = [];
  const directory = makeTempDir('parley-overhead-');
  const fake = startNode({
    name: 'fake-openai',
    script: FAKE_SCRIPT,
    args: ['--tokens', String(settings.tokens), '--interval-ms', String(settings.intervalMs)],
  });
  const fakePort = Number((await waitForOutput(fake, /^listening on (\d+)$/m))[1]);
  const fakeUrl = `http://127.0.0.1:${fakePort}`;
  const parley = await startParley({
    databaseFile: path.join(directory, 'parley.db'),
    env: { OPENAI_COMPATIBLE_ENDPOINTS: `fake=${fakeUrl}/v1` },
  });
  const api = apiClient(parley);
  const agent = await api.createAgent({ model: 'openai-compatible:fake/bench' });
  const total = settings.warmupReplies + settings.replies;
  const threadIds = await createThreads(api, agent.id, total);
  // Each side keeps one warm connection, as a real client (and Parley's own fetch) would.
  const agentForDirect = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const agentForParley = new http.Agent({ keepAlive: true, maxSockets: 1 });

  const direct = [];
  const viaParley = [];
  const deltasPerReply = [];
  console.log(
    `streaming overhead: ${settings.replies} replies × ${settings.tokens} tokens every ${settings.intervalMs} ms, direct and through Parley, alternately`,
  );
  for (let reply = 0; reply < total; reply += 1) {
    const measured = reply >= settings.warmupReplies;
    const fromFake = await readDirect(fakeUrl, agentForDirect);
    const fromParley = await readThroughParley(parley, api, agent.id, threadIds[reply], agentForParley);
    for (const [label, outcome] of [
      ['direct', fromFake],
      ['Parley', fromParley],
    ]) {
      if (outcome.latencies.length !== settings.tokens)
        failures.push(`${label} reply ${reply + 1}: ${outcome.latencies.length} of ${settings.tokens} tokens arrived`);
      if (outcome.problem) failures.push(`${label} reply ${reply + 1}: ${outcome.problem}`);
    }
    if (measured) {
      direct.push(...fromFake.latencies);
      viaParley.push(...fromParley.latencies);
      deltasPerReply.push(fromParley.deltas);
    }
  }
  agentForDirect.destroy();
  agentForParley.destroy();
  const stopped = await stopParley(parley);
  if (!stopped.clean) failures.push(`Parley did not stop cleanly: ${JSON.stringify(stopped)}`);
  await stopChild(fake);

  const result = {
    name: benchmark.name,
    settings,
    direct: summarize(direct),
    parley: summarize(viaParley),
    deltasPerReply,
    failures,
  };
  result.addedP50Ms = result.parley.p50 - result.direct.p50;
  result.addedP99Ms = result.parley.p99 - result.direct.p99;
  result.aimMet = result.addedP99Ms < AIM_ADDED_P99_MS;
  console.log(`\n${textTable(...tableOf(result))}`);
  console.log(
    `added p99: ${fixed(result.addedP99Ms)} ms (aim < ${AIM_ADDED_P99_MS} ms: ${result.aimMet ? 'met' : 'NOT met'})`,
  );
  return result;
}

/** The baseline: the fake's stream read straight off its socket. */
async function readDirect(fakeUrl, agent) {
  const latencies = [];
  let problem = null;
  await streamEvents({
    url: `${fakeUrl}/v1/chat/completions`,
    method: 'POST',
    agent,
    body: { model: 'bench', stream: true, messages: [{ role: 'user', content: 'hi' }] },
    timeoutMs: 30_000,
    onEvent: (event, receivedAt) => {
      if (event.data === '[DONE]') return;
      const content = JSON.parse(event.data).choices?.[0]?.delta?.content ?? '';
      for (const sentAt of timestampsIn(content)) latencies.push(receivedAt - sentAt);
    },
  }).catch((error) => (problem = error.message));
  return { latencies, problem };
}

/** The same tokens through Parley: the timestamps ride inside its text-delta events. */
async function readThroughParley(parley, api, agentId, threadId, agent) {
  const latencies = [];
  let deltas = 0;
  let problem = null;
  let ended = false;
  await streamEvents({
    url: `${parley.baseUrl}/api/v1/chat/${agentId}/threads/${threadId}/messages/stream`,
    method: 'POST',
    agent,
    headers: api.headers,
    body: { role: 'user', content: 'hi' },
    timeoutMs: 30_000,
    onEvent: (event, receivedAt) => {
      if (event.event === 'text-delta') {
        deltas += 1;
        // Chunks that reach Parley together may leave as one delta: every timestamp counts.
        for (const sentAt of timestampsIn(JSON.parse(event.data).delta)) latencies.push(receivedAt - sentAt);
      } else if (event.event === 'run-end') {
        ended = true;
        const { status } = JSON.parse(event.data);
        if (status !== 'completed') problem = `run ended with status ${status}`;
      } else if (event.event === 'run-error' || event.event === 'error') {
        problem = `${event.event}: ${event.data}`;
      }
    },
  }).catch((error) => (problem = error.message));
  if (!ended && !problem) problem = 'the stream ended without run-end';
  return { latencies, deltas, problem };
}

function tableOf(result) {
  const header = ['path', 'tokens', 'p50 ms', 'p99 ms', 'max ms', 'p99 vs direct'];
  const row = (label, figures) => [
    label,
    String(figures.count),
    fixed(figures.p50),
    fixed(figures.p99),
    fixed(figures.max),
    fixed(figures.p99 / result.direct.p99),
  ];
  return [
    header,
    [row('direct from the fake model (baseline)', result.direct), row('through Parley (SSE)', result.parley)],
  ];
}

export function render(result) {
  const { settings: s } = result;
  const coalesced = result.deltasPerReply.some((count) => count < s.tokens);
  return [
    '### Streaming overhead: per-token latency, direct vs. through Parley',
    '',
    `A fake OpenAI-compatible server (\`bench/lib/fake-openai.js\`, its own process, real HTTP on 127.0.0.1) streams ` +
      `${s.tokens} tokens per reply, one every ${s.intervalMs} ms; each token's text is its send time on the monotonic ` +
      `clock. **Baseline:** the benchmark reads the fake directly. **Parley:** the server runs with ` +
      '`OPENAI_COMPATIBLE_ENDPOINTS=fake=…/v1` and an agent on `openai-compatible:fake/bench`; the benchmark posts to ' +
      '`POST …/messages/stream` and reads the `text-delta` events. Token latency = arrival − send time. ' +
      `${s.replies} measured replies each way (after ${s.warmupReplies} warm-up), one at a time, alternating.`,
    '',
    markdownTable(...tableOf(result)),
    '',
    `Added latency through Parley: p50 ${fixed(result.addedP50Ms)} ms, **p99 ${fixed(result.addedP99Ms)} ms** ` +
      `(aim: under ${AIM_ADDED_P99_MS} ms — **${result.aimMet ? 'met' : 'not met'}**).` +
      (coalesced
        ? ` Some deltas carried several tokens (deltas per reply: ${result.deltasPerReply.join(', ')}); every token's timestamp was counted.`
        : ` Every token left Parley as its own delta.`),
  ].join('\n');
}

runIfMain(import.meta.url, benchmark);
