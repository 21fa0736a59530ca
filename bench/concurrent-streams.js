import http from 'node:http';
import path from 'node:path';
import { cpuTimeMs, makeTempDir, stableRssKiB, startRssSampler } from './lib/children.js';
import { runIfMain } from './lib/main.js';
import { apiClient, createThreads, liveHeap, startParley, stopParley } from './lib/parley.js';
import { hrtimeMs, streamEvents } from './lib/sse.js';
import { fixed, markdownTable, mib, summarize, textTable, whole } from './lib/stats.js';

/**
 * 1,000 concurrent streaming replies on one process. Parley runs the demo model at a human pace
 * (DEMO_MODEL_WORDS_PER_SECOND=20, so a reply lasts about two seconds), one run per thread, and
 * this process opens every `POST …/messages/stream` at once. Baseline: the same server with 10
 * concurrent replies. Figures: errors (must be 0), the server's RSS idle / at peak (sampled every
 * 200 ms) / after, RSS growth per stream, wall time of the whole batch, and a check that every
 * reply was stored with the text that was streamed. The big batch runs three times: twice for
 * RSS, and once between two heap snapshots, which tell what a finished reply leaves in memory.
 */

const settings = {
  streams: Number(process.env.BENCH_CONCURRENT_STREAMS ?? 1000),
  baselineStreams: 10,
  wordsPerSecond: 20,
  streamTimeoutMs: 90_000,
};

export const benchmark = { name: 'concurrent-streams', deadlineMs: 180_000, run, render };

export async function run() {
  const failures = [];
  const directory = makeTempDir('parley-concurrent-');
  const parley = await startParley({
    databaseFile: path.join(directory, 'parley.db'),
    // Every stream is opened with the one bootstrap key: the per-key and per-organisation
    // stream limits (100 and 1,000 by default) are lifted to measure the server itself.
    env: {
      DEMO_MODEL_WORDS_PER_SECOND: String(settings.wordsPerSecond),
      SSE_MAX_STREAMS_PER_KEY: '0',
      SSE_MAX_STREAMS_PER_ORGANIZATION: '0',
    },
    heapSnapshots: true,
    // One socket per stream, plus the database and some slack.
    openFiles: settings.streams + 1000,
  });
  const api = apiClient(parley);
  const agent = await api.createAgent({ model: 'demo' });
  const { baselineStreams, streams } = settings;
  const threadIds = await createThreads(api, agent.id, baselineStreams * 2 + streams * 3);
  const take = (count) => threadIds.splice(0, count);
  console.log(
    `concurrent streams: ${streams} replies at once (three times) vs ${baselineStreams}, demo model at ${settings.wordsPerSecond} words/s`,
  );

  // Runs a batch on fresh threads, then reads every reply back; problems become failures.
  const checkedBatch = async (label, count) => {
    const batch = await runBatch(parley, api, agent.id, take(count));
    const stored = await checkStored(api, agent.id, batch);
    if (batch.errors.length > 0)
      failures.push(
        `${label}: ${batch.errors.length} of ${count} streams failed, e.g. ${batch.errors.slice(0, 3).join(' | ')}`,
      );
    if (stored.problems.length > 0)
      failures.push(
        `${label}: ${stored.problems.length} stored replies wrong, e.g. ${stored.problems.slice(0, 3).join(' | ')}`,
      );
    return { batch, storedProblems: stored.problems.length };
  };

  // A first batch warms the code paths (JIT, prepared statements) so the baseline does not pay for them.
  await checkedBatch('warm-up', baselineStreams);
  const batches = [];
  for (const [label, count] of [
    ['baseline', baselineStreams],
    ['load', streams],
    ['load again', streams],
  ]) {
    const before = await stableRssKiB(parley.pid);
    const { batch, storedProblems } = await checkedBatch(label, count);
    batches.push({ label, ...describe(batch, before.kib), storedProblems });
  }
  const after = await stableRssKiB(parley.pid, { maxMs: 15_000 });

  // What a finished reply leaves behind. RSS cannot say (V8 keeps memory it grew; garbage waits
  // for a major collection); a heap snapshot collects garbage first and counts what is still
  // referenced. One before and one after a third big batch: the difference is what the server
  // keeps per reply once it is over, by kind of object. (A snapshot makes RSS jump, so this
  // batch's RSS is not reported.)
  const heapBefore = await liveHeap(parley, { top: 60 });
  const { batch: third, storedProblems: thirdStoredProblems } = await checkedBatch('third batch', streams);
  const heapAfter = await liveHeap(parley, { top: 60 });

  const stopped = await stopParley(parley);
  if (!stopped.clean) failures.push(`Parley did not stop cleanly: ${JSON.stringify(stopped)}`);

  const [baseline, load, again] = batches;
  const result = {
    name: benchmark.name,
    settings,
    batches,
    rssAfterKiB: after.kib,
    rssAfterSettled: after.settled,
    growthPerStreamRatio: load.growthPerStreamKiB / baseline.growthPerStreamKiB,
    wallTimeRatio: load.wallMs / baseline.wallMs,
    secondPeakGrowthKiB: again.peakKiB - load.peakKiB,
    third: { streams, errors: third.errors.length, wallMs: third.wallMs, storedProblems: thirdStoredProblems },
    liveHeapBytes: { before: heapBefore.bytes, after: heapAfter.bytes },
    retainedBytesPerReply: (heapAfter.bytes - heapBefore.bytes) / streams,
    retainedByType: growthByType(heapBefore, heapAfter, streams),
    failures,
  };
  console.log(`\n${textTable(...tableOf(result))}`);
  console.log(
    `RSS settled after both big batches: ${mib(after.kib)} MiB; second big batch peak vs first: ` +
      `${result.secondPeakGrowthKiB >= 0 ? '+' : ''}${mib(result.secondPeakGrowthKiB)} MiB\n` +
      `third batch: ${result.third.errors} errors, ${fixed(result.third.wallMs / 1000)} s; live heap ` +
      `${mib(heapBefore.bytes / 1024)} → ${mib(heapAfter.bytes / 1024)} MiB: ${whole(result.retainedBytesPerReply)} bytes kept per finished reply, ` +
      `mostly ${describeTypes(result.retainedByType)}`,
  );
  return result;
}

/**
 * Opens one `POST …/messages/stream` per thread, all at once, on a pool that never queues
 * (maxSockets above the batch size), and waits for every one to end with `run-end`.
 */
async function runBatch(parley, api, agentId, threadIds) {
  const agent = new http.Agent({ keepAlive: false, maxSockets: threadIds.length + 100 });
  const sampler = startRssSampler(parley.pid, 200);
  const cpuBefore = cpuTimeMs(parley.pid);
  const started = hrtimeMs();
  const outcomes = await Promise.all(
    threadIds.map((threadId) => readReply(parley, api, agentId, threadId, agent, started)),
  );
  const wallMs = hrtimeMs() - started;
  const serverCpuMs = cpuTimeMs(parley.pid) - cpuBefore;
  const { peakKiB } = sampler.stop();
  agent.destroy();
  return {
    count: threadIds.length,
    wallMs,
    serverCpuMs,
    peakKiB,
    outcomes,
    errors: outcomes.filter((outcome) => outcome.error).map((outcome) => outcome.error),
  };
}

async function readReply(parley, api, agentId, threadId, agent, batchStarted) {
  const outcome = { threadId, text: '', deltas: 0, firstDeltaMs: null, endMs: null, messageId: null, error: null };
  let ended = false;
  try {
    await streamEvents({
      url: `${parley.baseUrl}/api/v1/chat/${agentId}/threads/${threadId}/messages/stream`,
      method: 'POST',
      agent,
      headers: api.headers,
      body: { role: 'user', content: 'hello' },
      timeoutMs: settings.streamTimeoutMs,
      onEvent: (event, receivedAt) => {
        if (event.event === 'text-delta') {
          outcome.deltas += 1;
          outcome.firstDeltaMs ??= receivedAt - batchStarted;
          outcome.text += JSON.parse(event.data).delta;
        } else if (event.event === 'run-end') {
          ended = true;
          outcome.endMs = receivedAt - batchStarted;
          const data = JSON.parse(event.data);
          outcome.messageId = data.message?.id ?? null;
          if (data.status !== 'completed') outcome.error = `run-end with status ${data.status}`;
        } else if (event.event === 'run-error' || event.event === 'error') {
          outcome.error = `${event.event}: ${event.data.slice(0, 200)}`;
        }
      },
    });
    if (!ended && !outcome.error) outcome.error = 'stream ended without run-end';
  } catch (error) {
    outcome.error = error.message;
  }
  return outcome;
}

/** Every reply of the batch must be stored, complete, with exactly the text that was streamed. */
async function checkStored(api, agentId, batch) {
  const problems = [];
  let next = 0;
  const worker = async () => {
    while (next < batch.outcomes.length) {
      const outcome = batch.outcomes[next++];
      const messages = await api.listMessages(agentId, outcome.threadId);
      const reply = messages.find((message) => message.role === 'assistant');
      if (messages.length !== 2 || !reply) problems.push(`${outcome.threadId}: ${messages.length} messages stored`);
      else if (reply.metadata?.status !== 'completed')
        problems.push(`${outcome.threadId}: status ${reply.metadata?.status}`);
      else if (reply.id !== outcome.messageId || reply.content !== outcome.text)
        problems.push(`${outcome.threadId}: the stored reply differs from the streamed text`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return { checked: batch.outcomes.length, problems };
}

/** The kinds of object that grew most between two heap summaries, per reply. */
function growthByType(before, after, replies) {
  const earlier = new Map(before.byType);
  return after.byType
    .map(([type, { count, bytes }]) => ({
      type,
      objectsPerReply: (count - (earlier.get(type)?.count ?? 0)) / replies,
      bytesPerReply: (bytes - (earlier.get(type)?.bytes ?? 0)) / replies,
    }))
    .filter((entry) => entry.bytesPerReply > 0)
    .sort((a, b) => b.bytesPerReply - a.bytesPerReply)
    .slice(0, 5);
}

function describeTypes(types) {
  return types
    .map((entry) => `${entry.type} (${fixed(entry.objectsPerReply, 0)} × per reply, ${whole(entry.bytesPerReply)} B)`)
    .join(', ');
}

function describe(batch, rssBeforeKiB) {
  const ok = batch.outcomes.filter((outcome) => !outcome.error);
  return {
    streams: batch.count,
    errors: batch.errors.length,
    wallMs: batch.wallMs,
    serverCpuMs: batch.serverCpuMs,
    serverCpuMsPerReply: batch.serverCpuMs / batch.count,
    firstDelta: summarize(ok.map((outcome) => outcome.firstDeltaMs).filter((value) => value !== null)),
    end: summarize(ok.map((outcome) => outcome.endMs)),
    deltas: ok.reduce((sum, outcome) => sum + outcome.deltas, 0),
    rssBeforeKiB,
    peakKiB: batch.peakKiB,
    growthPerStreamKiB: (batch.peakKiB - rssBeforeKiB) / batch.count,
  };
}

function tableOf(result) {
  const header = [
    'concurrent replies',
    'errors',
    'wall time s',
    'server CPU',
    'server CPU ms/reply',
    'first delta p50 / p99 ms',
    'run-end p50 / p99 ms',
    'RSS before MiB',
    'RSS peak MiB',
    'peak growth KiB/stream',
  ];
  const row = (figures) => [
    `${whole(figures.streams)}${figures.label === 'baseline' ? ' (baseline)' : figures.label === 'load again' ? ' (again)' : ''}`,
    String(figures.errors),
    fixed(figures.wallMs / 1000),
    `${Math.round((100 * figures.serverCpuMs) / figures.wallMs)}%`,
    fixed(figures.serverCpuMsPerReply, 1),
    `${whole(figures.firstDelta.p50)} / ${whole(figures.firstDelta.p99)}`,
    `${whole(figures.end.p50)} / ${whole(figures.end.p99)}`,
    mib(figures.rssBeforeKiB),
    mib(figures.peakKiB),
    fixed(figures.growthPerStreamKiB, 1),
  ];
  const [baseline, load] = result.batches;
  const ratio = [
    `ratio ${whole(load.streams)} / baseline`,
    '',
    fixed(result.wallTimeRatio),
    '',
    fixed(load.serverCpuMsPerReply / baseline.serverCpuMsPerReply),
    `${fixed(load.firstDelta.p50 / baseline.firstDelta.p50)} / ${fixed(load.firstDelta.p99 / baseline.firstDelta.p99)}`,
    `${fixed(load.end.p50 / baseline.end.p50)} / ${fixed(load.end.p99 / baseline.end.p99)}`,
    '',
    '',
    fixed(result.growthPerStreamRatio),
  ];
  return [header, [...result.batches.map(row), ratio]];
}

export function render(result) {
  const { settings: s, batches, third } = result;
  const load = batches[1];
  const errors = batches.reduce((sum, batch) => sum + batch.errors, 0) + third.errors;
  const storedProblems = batches.reduce((sum, batch) => sum + batch.storedProblems, 0) + third.storedProblems;
  const checked = batches.reduce((sum, batch) => sum + batch.streams, 0) + third.streams;
  const heap = result.liveHeapBytes;
  return [
    `### ${whole(s.streams)} concurrent streaming replies on one process`,
    '',
    `Parley (SQLite) runs the demo model at ${s.wordsPerSecond} words/s (\`DEMO_MODEL_WORDS_PER_SECOND\`), so a reply ` +
      `(${Math.round(load.deltas / Math.max(1, load.streams - load.errors))} words) lasts about two seconds. ` +
      `One thread per reply; the benchmark opens every \`POST …/messages/stream\` of a batch at once (node:http, a pool ` +
      `larger than the batch) and waits for \`run-end\` on each. **Baseline:** the same server, ${s.baselineStreams} ` +
      `replies at once (after a warm-up batch of ${s.baselineStreams}). The big batch runs three times. The server's RSS ` +
      '(`/proc/<pid>/status` VmRSS) is sampled every 200 ms during a batch; "before" is the settled value before it. ' +
      'Times are from the start of the batch; "server CPU" is the server\'s CPU time during the batch as a share of one ' +
      'core (100 % = its one thread was never idle). With 10 streams the RSS growth is a few hundred KiB at most, ' +
      'within the noise of RSS, so the per-stream memory ratio is only indicative.',
    '',
    markdownTable(...tableOf(result)),
    '',
    `Errors: **${errors}** of ${whole(checked)} streams. Every reply was read back with \`GET …/messages\`: ` +
      `${storedProblems === 0 ? 'each is stored, completed, with exactly the streamed text' : `**${storedProblems} are missing or differ**`}. ` +
      `RSS settled after two big batches: ${mib(result.rssAfterKiB)} MiB` +
      `${result.rssAfterSettled ? '' : ' (still moving when sampled)'} (idle before the baseline: ${mib(batches[0].rssBeforeKiB)} MiB); ` +
      `the second big batch's peak was ${result.secondPeakGrowthKiB >= 0 ? '+' : '−'}${mib(Math.abs(result.secondPeakGrowthKiB))} MiB ` +
      'from the first. RSS cannot tell kept memory from garbage not yet collected, so the server also runs with ' +
      '`--heapsnapshot-signal`: its live heap (a heap snapshot, taken after a full garbage collection) before and after ' +
      `a third big batch (${third.errors} errors, ${fixed(third.wallMs / 1000, 1)} s) went from ${mib(heap.before / 1024)} ` +
      `to ${mib(heap.after / 1024)} MiB: **${whole(result.retainedBytesPerReply)} bytes kept per finished reply**, ` +
      `mostly ${describeTypes(result.retainedByType)}. ` +
      `That matches the replay buffer (docs/streaming.md, "Event ids, resuming") holding the reply's ` +
      `${Math.round(load.deltas / Math.max(1, load.streams - load.errors))} text deltas (about three objects and a string ` +
      'each) after the run has ended, so that a client can resume; the buffer is capped by a number of threads and ' +
      'deltas per thread, not by bytes, so longer replies keep proportionally more.',
  ].join('\n');
}

runIfMain(import.meta.url, benchmark);
