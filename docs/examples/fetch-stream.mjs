// Send a message and read the reply as it streams, with nothing but fetch (Node 18+, browsers).
export async function main({ baseUrl, apiKey, agentId, threadId }) {
  const response = await fetch(`${baseUrl}/api/v1/chat/${agentId}/threads/${threadId}/messages/stream`, {
    method: 'POST',
    headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'user', content: 'Hello!' }),
  });
  if (!response.ok) throw new Error(`${response.status}: ${await response.text()}`);

  let text = '';
  let reply = null;
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const bytes of response.body) {
    buffer += decoder.decode(bytes, { stream: true });
    // Frames end with a blank line; each data line here is one JSON object with its `type`.
    let end;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice('data: '.length))
        .join('\n');
      if (data === '') continue; // a comment such as `: keep-alive`
      const event = JSON.parse(data);
      if (event.type === 'text-delta') text += event.delta;
      if (event.type === 'run-end' || event.type === 'run-error') reply = event.message;
    }
  }
  return { text, reply };
}
