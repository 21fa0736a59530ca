/**
 * A server-sent events parser (the WHATWG `text/event-stream` rules) for text that arrives in
 * chunks of any size: a line, or a CRLF, may be split between two chunks. No DOM: it runs in the
 * widget and in Node's unit tests alike.
 */

/** One dispatched event: its `event` name (`message` when the frame named none), `data` and `id`. */
export interface SseEvent {
  event: string;
  data: string;
  /** The frame's `id`, or the last one seen before it (as `EventSource.lastEventId`); '' when none yet. */
  id: string;
}

export class SseParser {
  #buffer = '';
  #event = '';
  #data: string[] = [];
  #lastId = '';
  #started = false;
  /** The last chunk ended with a CR: a LF starting the next one belongs to it. */
  #afterCr = false;

  /** Parses the next chunk; returns the events whose frame ended (blank line) in it. */
  feed(chunk: string): SseEvent[] {
    let text = chunk;
    if (this.#afterCr && text.startsWith('\n')) text = text.slice(1); // the LF of a CRLF split between chunks
    this.#afterCr = false;
    text = this.#buffer + text;
    if (!this.#started && text.length > 0) {
      this.#started = true;
      if (text.startsWith('\uFEFF')) text = text.slice(1); // a byte-order mark is ignored once, at the start
    }
    const events: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const end = lineEnd(text, start);
      if (end === null) break;
      const event = this.#line(text.slice(start, end.at));
      if (event) events.push(event);
      start = end.at + end.length;
      if (end.length === 1 && text.charCodeAt(end.at) === 13 && start === text.length) this.#afterCr = true;
    }
    this.#buffer = text.slice(start);
    return events;
  }

  #line(line: string): SseEvent | null {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return null; // a comment (`: keep-alive`)
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\u0000')) this.#lastId = value;
    // `retry` and unknown fields are ignored: the widget reconnects by its own rules.
    return null;
  }

  /** A blank line ends the frame: an event when it had data, nothing otherwise. */
  #dispatch(): SseEvent | null {
    const data = this.#data;
    const event = this.#event;
    this.#data = [];
    this.#event = '';
    if (data.length === 0) return null;
    return { event: event === '' ? 'message' : event, data: data.join('\n'), id: this.#lastId };
  }
}

/** Where the line starting at `from` ends: LF, CRLF or a lone CR (null: no complete line yet). */
function lineEnd(text: string, from: number): { at: number; length: number } | null {
  for (let index = from; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code === 10) return { at: index, length: 1 };
    if (code === 13) return { at: index, length: text.charCodeAt(index + 1) === 10 ? 2 : 1 };
  }
  return null;
}
