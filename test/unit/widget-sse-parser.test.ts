import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from '../../web/widget/src/sse-parser.js';

/** The chat widget's own SSE parser (web/widget/src/sse-parser.ts): frames split anywhere. */

const FRAMES =
  ': stream open\n\n' +
  'id: 3\nevent: message-start\ndata: {"type":"message-start"}\n\n' +
  'id: 3.1\nevent: text-delta\ndata: {"type":"text-delta","delta":"Hé "}\n\n' +
  ': keep-alive\n\n' +
  'id: 4\nevent: run-end\ndata: {"type":"run-end"}\n\n';

const EXPECTED: SseEvent[] = [
  { id: '3', event: 'message-start', data: '{"type":"message-start"}' },
  { id: '3.1', event: 'text-delta', data: '{"type":"text-delta","delta":"Hé "}' },
  { id: '4', event: 'run-end', data: '{"type":"run-end"}' },
];

function parseInChunks(text: string, size: number): SseEvent[] {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  for (let start = 0; start < text.length; start += size) events.push(...parser.feed(text.slice(start, start + size)));
  return events;
}

describe('the widget SSE parser', () => {
  it('parses a whole stream at once: named events with their ids, comments left out', () => {
    expect(new SseParser().feed(FRAMES)).toEqual(EXPECTED);
  });

  it('gives the same events whatever the chunk size, down to one character', () => {
    for (const size of [1, 2, 3, 7, 16, 64]) expect(parseInChunks(FRAMES, size)).toEqual(EXPECTED);
  });

  it('accepts CRLF and lone CR line ends, a CRLF split between chunks included', () => {
    const crlf = FRAMES.replaceAll('\n', '\r\n');
    for (const size of [1, 2, 5]) expect(parseInChunks(crlf, size)).toEqual(EXPECTED);
    expect(new SseParser().feed(FRAMES.replaceAll('\n', '\r'))).toEqual(EXPECTED);
  });

  it('joins data lines with a newline, strips one leading space only, and names an unnamed event "message"', () => {
    expect(new SseParser().feed('data:  two spaces\ndata:none\ndata\n\n')).toEqual([
      { id: '', event: 'message', data: ' two spaces\nnone\n' },
    ]);
  });

  it('keeps the last id for later events, dispatches no frame without data, and waits for the blank line', () => {
    const parser = new SseParser();
    expect(parser.feed('id: 9\nevent: ignored\n\n')).toEqual([]);
    expect(parser.feed('data: {"a":1}\n')).toEqual([]);
    expect(parser.feed('\n')).toEqual([{ id: '9', event: 'message', data: '{"a":1}' }]);
    expect(parser.feed('retry: 1000\nunknown: x\ndata: y')).toEqual([]);
    expect(parser.feed('\n\n')).toEqual([{ id: '9', event: 'message', data: 'y' }]);
  });

  it('ignores a byte-order mark at the start of the stream only, and an id with U+0000', () => {
    expect(new SseParser().feed('\uFEFFdata: a\n\nid: x\u0000y\ndata: \uFEFFb\n\n')).toEqual([
      { id: '', event: 'message', data: 'a' },
      { id: '', event: 'message', data: '\uFEFFb' },
    ]);
  });
});
