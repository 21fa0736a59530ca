import path from 'node:path';
import { makeTempDir } from './lib/children.js';
import { requestJson } from './lib/http-json.js';
import { runIfMain } from './lib/main.js';
import { apiClient, startParley, stopParley } from './lib/parley.js';
import { fixed, markdownTable, textTable } from './lib/stats.js';

/**
 * The longest user message (32 KiB) of worst-case shapes, posted to a demo-model agent with the
 * calculator and the clock (issue 7, M1): how long each reply takes, and how long the server's
 * event loop was held meanwhile, as the server itself reports it (`GET /metrics`: how much
 * `parley_event_loop_delay_seconds_sum` grew during the request; the maximum gauge covers the last
 * minute, so it would carry one shape's hold into the next). Prose of the same length is the
 * baseline. Not part of
 * `npm run bench` or `bench:streaming`, and writes nothing to docs/performance.md:
 * `node bench/large-messages.js` after `npm run build`.
 */

const LENGTH = 32_768;
const fill = (unit, length) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
const SHAPES = {
  'prose (baseline)': fill('The quick brown fox jumps over the lazy dog. ', LENGTH),
  digits: fill('1', LENGTH),
  '"what is " and digits': `what is ${fill('1', LENGTH - 8)}`,
  spaces: fill(' ', LENGTH),
  'signs and parentheses': `${fill('(-+', LENGTH - 1)}x`,
  '"what is", spaces, a line break': `what is${fill(' ', LENGTH - 10)}x\ny`,
};
const REPETITIONS = 3;
const REQUEST_TIMEOUT_MS = 60_000;

export const benchmark = { name: 'large-messages', deadlineMs: 20 * 60_000, run, render };

export async function run() {
  const directory = makeTempDir('parley-large-messages-');
  // The demo model answers at once: the reply's time is the server's work, not a streaming pace.
  const parley = await startParley({
    databaseFile: path.join(directory, 'parley.db'),
    env: { DEMO_MODEL_WORDS_PER_SECOND: '0' },
  });
  const api = apiClient(parley);
  const agent = await api.createAgent({ model: 'demo', tools: ['calculator', 'current_time'] });
  // A hold of the loop is one late sample of the server's 10 ms timer, as late as the hold was long.
  const delaySumSeconds = async () => {
    const { text } = await requestJson({ url: `${parley.baseUrl}/metrics` });
    return Number(/^parley_event_loop_delay_seconds_sum (\S+)$/m.exec(text)?.[1] ?? NaN);
  };
  const rows = [];
  for (const [shape, content] of Object.entries(SHAPES)) {
    const replies = [];
    const holds = [];
    for (let repetition = 0; repetition < REPETITIONS; repetition += 1) {
      const thread = await api.createThread(agent.id);
      const sumBefore = await delaySumSeconds();
      const started = process.hrtime.bigint();
      const response = await requestJson({
        url: `${parley.baseUrl}/api/v1/chat/${agent.id}/threads/${thread.id}/messages`,
        method: 'POST',
        headers: api.headers,
        body: { role: 'user', content },
        timeoutMs: REQUEST_TIMEOUT_MS,
      }).catch((error) => ({ status: String(error.message ?? error) }));
      replies.push(Number(process.hrtime.bigint() - started) / 1e6);
      holds.push(((await delaySumSeconds()) - sumBefore) * 1000);
      if (response.status !== 200) throw new Error(`${shape}: ${response.status}`);
    }
    rows.push({ shape, replyMs: Math.min(...replies), holdMs: Math.max(...holds) });
    console.log(
      `${shape}: reply ${fixed(rows.at(-1).replyMs, 1)} ms, loop held up to ${fixed(rows.at(-1).holdMs, 1)} ms`,
    );
  }
  const stopped = await stopParley(parley);
  const failures = stopped.clean ? [] : [`Parley did not stop cleanly: ${JSON.stringify(stopped)}`];
  const result = { length: LENGTH, repetitions: REPETITIONS, rows, failures };
  console.log(`\n${textTable(...tableOf(result))}`);
  return result;
}

function tableOf(result) {
  const header = ['message (32 KiB)', 'reply ms (fastest)', 'loop held ms (longest)'];
  return [header, result.rows.map((row) => [row.shape, fixed(row.replyMs, 1), fixed(row.holdMs, 1)])];
}

export function render(result) {
  return markdownTable(...tableOf(result));
}

runIfMain(import.meta.url, benchmark);
