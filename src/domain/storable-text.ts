/**
 * Text the server did not get from a client — model output, tool arguments and results — cannot
 * be refused, so it is made storable instead, the same on both backends: U+0000 (which
 * PostgreSQL cannot hold in text or jsonb; the reply's insert failed and the run never ended)
 * and lone surrogates (which have no UTF-8 form) become U+FFFD. Everything else is unchanged.
 * Client input is refused rather than repaired (http/json-body.ts).
 */
export function storableText(text: string): string {
  const withoutNul = text.includes('\u0000') ? text.replaceAll('\u0000', '\ufffd') : text;
  return withoutNul.isWellFormed() ? withoutNul : withoutNul.toWellFormed();
}

/** `storableText` over every string (and key) of a JSON value; the value itself when nothing changes. */
export function storableJson<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (typeof value !== 'object' || value === null || isStorable(value)) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => storableJson(item)) as T;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [storableText(key), storableJson(item)])) as T;
}

/** True when no string in `value` needs repair: the JSON text has no `\u0000` and no lone surrogate. */
function isStorable(value: object): boolean {
  const text = JSON.stringify(value);
  // JSON.stringify writes U+0000 as `\u0000` and a lone surrogate as `\udxxx`.
  return !text.includes('\\u0000') && !/\\ud[89a-f]/i.test(text);
}

/**
 * A model's text arrives in deltas, and a surrogate pair may be split between two of them: a
 * high surrogate at the end of a delta is held back until the next, so the deltas sent to
 * followers and the text stored are the same repaired text.
 */
export class StorableTextStream {
  #held = '';

  /** The storable text of `delta` (with a held-back high surrogate before it), possibly empty. */
  push(delta: string): string {
    let text = this.#held + delta;
    this.#held = '';
    const last = text.charCodeAt(text.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) {
      this.#held = text.slice(-1);
      text = text.slice(0, -1);
    }
    return storableText(text);
  }

  /** What is still held back, repaired: call at the end of the stream. */
  end(): string {
    const held = this.#held;
    this.#held = '';
    return held === '' ? '' : storableText(held);
  }
}
