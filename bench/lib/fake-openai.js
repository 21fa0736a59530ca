import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * A fake OpenAI-compatible model server: `POST /v1/chat/completions` with `stream: true` answers
 * `chat.completion.chunk` lines, one content delta every `intervalMs`, then a finish chunk, a
 * usage chunk and `data: [DONE]`. Each delta's text is `t<ms> `: the monotonic time (see
 * sse.js `hrtimeMs`) just before it was written, so whoever receives it can compute the
 * token's latency. Run it as its own process (`node fake-openai.js --tokens 200 --interval-ms 10`):
 * it prints `listening on <port>` and stops on SIGTERM.
 */

function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function createFakeOpenAi({ tokens, intervalMs }) {
  let completions = 0;
  const server = http.createServer({ noDelay: true }, (request, response) => {
    if (request.method === 'GET' && request.url === '/healthz') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ completions }));
      return;
    }
    if (request.method !== 'POST' || request.url !== '/v1/chat/completions') {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      completions += 1;
      let parsed = {};
      try {
        parsed = JSON.parse(body);
      } catch {
        response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"bad JSON"}}');
        return;
      }
      if (parsed.stream === true) void streamCompletion(response, parsed.model ?? 'bench', { tokens, intervalMs });
      else answerCompletion(response, parsed.model ?? 'bench', tokens);
    });
  });
  return server;
}

async function streamCompletion(response, model, { tokens, intervalMs }) {
  const id = `chatcmpl-bench-${Math.random().toString(36).slice(2)}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices, usage) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...(usage ? { usage } : {}) })}\n\n`;
  let open = true;
  response.on('close', () => (open = false));
  response.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  response.write(chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]));
  // A deadline per token, not a fixed sleep after each write: the pace does not drift with load.
  const start = nowMs();
  for (let index = 1; index <= tokens && open; index += 1) {
    const wait = start + index * intervalMs - nowMs();
    if (wait > 0) await sleep(wait);
    if (!open) break;
    response.write(chunk([{ index: 0, delta: { content: `t${nowMs().toFixed(3)} ` }, finish_reason: null }]));
  }
  if (!open) return;
  response.write(chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]));
  response.write(chunk([], { prompt_tokens: 10, completion_tokens: tokens, total_tokens: 10 + tokens }));
  response.end('data: [DONE]\n\n');
}

function answerCompletion(response, model, tokens) {
  const content = Array.from({ length: tokens }, () => `t${nowMs().toFixed(3)} `).join('');
  response.writeHead(200, { 'content-type': 'application/json' }).end(
    JSON.stringify({
      id: 'chatcmpl-bench',
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 10, completion_tokens: tokens, total_tokens: 10 + tokens },
    }),
  );
}

/** All the timestamps (`t<ms>`) in a piece of text: one delta may hold several chunks' text. */
export function timestampsIn(text) {
  const stamps = [];
  for (const match of text.matchAll(/t(\d+\.\d+)/g)) stamps.push(Number(match[1]));
  return stamps;
}

// Run as a process: the fake never shares an event loop with the client or with Parley.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      tokens: { type: 'string', default: '200' },
      'interval-ms': { type: 'string', default: '10' },
      port: { type: 'string', default: '0' },
    },
  });
  const server = createFakeOpenAi({ tokens: Number(values.tokens), intervalMs: Number(values['interval-ms']) });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(values.port), '127.0.0.1', () => {
    process.stdout.write(`listening on ${server.address().port}\n`);
  });
  const stop = () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
