// Following a thread with EventSource, which cannot send headers: a short-lived stream token in
// the URL instead of the API key. In a browser, EventSource is built in; in Node.js the
// `eventsource` package is the same API.
import { EventSource } from 'eventsource';

// Parley's events are named, so EventSource delivers each to its own listener (not onmessage).
const EVENT_TYPES = [
  'message-start',
  'text-delta',
  'tool-call-start',
  'tool-call-end',
  'message-end',
  'run-start',
  'run-end',
  'run-error',
  'stream-error',
  'shutdown',
];

// On your server, which keeps the API key: a token for this one thread (valid for 5 minutes).
export async function issueStreamToken({ baseUrl, apiKey, agentId, threadId }) {
  const url = `${baseUrl}/api/v1/chat/${agentId}/threads/${threadId}/stream-token`;
  const response = await fetch(url, { method: 'POST', headers: { 'x-api-key': apiKey } });
  if (!response.ok) throw new Error(`POST …/stream-token answered ${response.status}`);
  return response.json(); // { token, expires_at, stream_url }
}

// In the browser: follow the thread. While the token is valid, EventSource reconnects by itself
// and resumes with Last-Event-ID. A token is checked only when a stream opens: after it expires,
// a reconnect gets 401 and EventSource gives up (readyState CLOSED), so fetch a new token and
// resume from the last event id with ?after=.
export function followThread({ baseUrl, getStreamToken, onEvent, onError }) {
  let source = null;
  let lastEventId = null;
  let closed = false;
  let markOpen;
  const opened = new Promise((resolve) => (markOpen = resolve));

  async function connect() {
    const { stream_url } = await getStreamToken();
    if (closed) return;
    const url = new URL(stream_url, baseUrl);
    if (lastEventId !== null) url.searchParams.set('after', lastEventId);
    source = new EventSource(url);
    source.onopen = () => markOpen();
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (event) => {
        if (event.lastEventId) lastEventId = event.lastEventId;
        onEvent(JSON.parse(event.data));
      });
    }
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED && !closed) connect().catch(onError);
    };
  }

  connect().catch(onError);
  return {
    opened,
    close() {
      closed = true;
      source?.close();
    },
  };
}

export async function main({ baseUrl, apiKey, agentId, threadId }) {
  const types = [];
  let reply = '';
  let follower;
  const runEnded = new Promise((resolve, reject) => {
    follower = followThread({
      baseUrl,
      // In a browser this would ask your own server, which calls issueStreamToken.
      getStreamToken: () => issueStreamToken({ baseUrl, apiKey, agentId, threadId }),
      onEvent: (event) => {
        types.push(event.type);
        if (event.type === 'text-delta') reply += event.delta;
        if (event.type === 'run-end' || event.type === 'run-error') resolve(event);
      },
      onError: reject,
    });
  });
  await Promise.race([follower.opened, runEnded]);

  // Something happens in the thread: here, a user message sent through the API.
  await fetch(`${baseUrl}/api/v1/chat/${agentId}/threads/${threadId}/messages`, {
    method: 'POST',
    headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'user', content: 'Hello!' }),
  });
  const end = await runEnded;
  follower.close();
  return { types, reply, stored: end.message.content };
}
