/**
 * Reads a `text/event-stream` body as the JSON objects of its `data` lines (docs/streaming.md):
 * frames end at a blank line, a frame without data (a `: keep-alive` comment) is skipped.
 */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true }).replaceAll('\r\n', '\n');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n');
      if (data !== '') yield JSON.parse(data) as StreamEvent;
    }
  }
}

export interface Citation {
  file_id: string;
  chunk_id?: string;
  title?: string | null;
  page?: number | null;
  text?: string;
  url?: string | null;
}

/** The fields of the parley events the playground reads; `type` names the event. */
export interface StreamEvent {
  type: string;
  message_id?: string;
  run_id?: string;
  role?: string;
  delta?: string;
  tool_call_id?: string;
  tool_name?: string;
  arguments?: unknown;
  result?: unknown;
  error?: unknown;
  approval?: string;
  start_time?: string;
  end_time?: string;
  expires_at?: string;
  citations?: Citation[];
  status?: string;
  detail?: string;
  message?: { id: string; content: string; metadata?: Record<string, unknown> };
}
