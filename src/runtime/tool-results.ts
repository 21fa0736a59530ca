/**
 * Tool results are bounded twice (docs/adr/0015-tool-approval.md): what is stored is at most
 * `TOOL_RESULT_MAX_BYTES` of JSON — a larger result is stored as a `truncated` marker object
 * with the head and tail of its JSON text and the cap — and what the model is sent is at most
 * `TOOL_RESULT_MODEL_BYTES`: a larger result reaches it as one text, the head and the tail of
 * its JSON with a marker between them saying how much was cut.
 */

/** What is stored in place of a result larger than the cap. */
export interface TruncatedResult {
  truncated: true;
  /** The size of the whole result, as JSON bytes. */
  original_bytes: number;
  /** The cap it was cut to (`TOOL_RESULT_MAX_BYTES`). */
  max_bytes: number;
  /** The start and the end of the result's JSON text. */
  head: string;
  tail: string;
}

/** Room kept for the marker object's own keys and numbers. */
const MARKER_BYTES = 200;

/** The result as stored: itself when its JSON fits `maxBytes`, else a `TruncatedResult` that does. */
export function storedResult(result: unknown, json: string, maxBytes: number): unknown {
  const bytes = Buffer.from(json, 'utf8');
  if (bytes.length <= maxBytes) return result;
  // The head and tail are JSON text, whose quotes and backslashes grow when stored as strings:
  // shrink them until the marker fits (each round by the ratio it was over).
  let side = Math.floor((maxBytes - MARKER_BYTES) / 2);
  for (;;) {
    const { head, tail } = headAndTail(bytes, side);
    const marker: TruncatedResult = { truncated: true, original_bytes: bytes.length, max_bytes: maxBytes, head, tail };
    const size = Buffer.byteLength(JSON.stringify(marker), 'utf8');
    if (size <= maxBytes || side === 0) return marker;
    side = Math.max(0, Math.floor((side * (maxBytes - MARKER_BYTES)) / Math.max(1, size - MARKER_BYTES)) - 1);
  }
}

/**
 * What the model is sent of a result: itself (binary content replaced, see `withoutBinary`) when
 * its JSON fits `maxBytes`, else a head+tail text.
 */
export function modelResult(result: unknown, json: string, maxBytes: number): unknown {
  const view = withoutBinary(result);
  const bytes = Buffer.from(view === result ? json : JSON.stringify(view), 'utf8');
  if (bytes.length <= maxBytes) return view;
  return cutText(bytes, maxBytes, 'tool result');
}

/**
 * An MCP-shaped result (`{content: [...]}`) with its binary items — image and audio `data`, a
 * resource's `blob`, all base64 — replaced by a short placeholder naming the type and size: the
 * model cannot read base64, and it would fill its context. The stored result keeps them.
 */
export function withoutBinary(result: unknown): unknown {
  if (typeof result !== 'object' || result === null || !Array.isArray((result as { content?: unknown }).content))
    return result;
  const content = (result as { content: unknown[] }).content;
  let changed = false;
  const items = content.map((item) => {
    const replaced = placeholderFor(item);
    if (replaced !== item) changed = true;
    return replaced;
  });
  return changed ? { ...(result as object), content: items } : result;
}

function placeholderFor(item: unknown): unknown {
  if (typeof item !== 'object' || item === null) return item;
  const entry = item as { type?: unknown; data?: unknown; mimeType?: unknown; resource?: unknown };
  const describe = (kind: string, mimeType: unknown, base64: string) =>
    `[${kind} ${typeof mimeType === 'string' ? mimeType : 'binary'}, ${Math.floor((base64.length * 3) / 4)} bytes, not shown]`;
  if ((entry.type === 'image' || entry.type === 'audio') && typeof entry.data === 'string') {
    return { type: 'text', text: describe(entry.type, entry.mimeType, entry.data) };
  }
  const resource = entry.resource as { blob?: unknown; mimeType?: unknown; uri?: unknown } | undefined;
  if (entry.type === 'resource' && resource && typeof resource.blob === 'string') {
    const { blob, ...rest } = resource;
    return { type: 'resource', resource: { ...rest, text: describe('resource', resource.mimeType, blob as string) } };
  }
  return item;
}

/** An error text within `maxBytes`, cut in the middle like a large result. */
export function boundedError(error: string, maxBytes: number): string {
  const bytes = Buffer.from(error, 'utf8');
  return bytes.length <= maxBytes ? error : cutText(bytes, maxBytes, 'error');
}

function cutText(bytes: Buffer, maxBytes: number, what: string): string {
  const side = Math.floor((maxBytes - MARKER_BYTES) / 2);
  const { head, tail, omitted } = headAndTail(bytes, side);
  return `${head}\n…[${omitted} of ${bytes.length} bytes of this ${what} cut here; it is longer than the ${maxBytes} bytes sent]…\n${tail}`;
}

/** The first and last `side` bytes of `bytes` as text, cut at character boundaries. */
function headAndTail(bytes: Buffer, side: number): { head: string; tail: string; omitted: number } {
  let headEnd = Math.min(side, bytes.length);
  // A UTF-8 continuation byte (10xxxxxx) is never where a character starts.
  while (headEnd > 0 && isContinuation(bytes[headEnd])) headEnd -= 1;
  let tailStart = Math.max(headEnd, bytes.length - side);
  while (tailStart < bytes.length && isContinuation(bytes[tailStart])) tailStart += 1;
  return {
    head: bytes.subarray(0, headEnd).toString('utf8'),
    tail: bytes.subarray(tailStart).toString('utf8'),
    omitted: tailStart - headEnd,
  };
}

function isContinuation(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}
