import type { ByteSource } from './byte-source.js';
import { strictDecoder, textEncodingOf } from './extract/text-decoding.js';

/**
 * The text check of detection (file-type.ts): the whole file must decode strictly (UTF-8, or
 * UTF-16 with a BOM) and hold no NUL, and the start of the text says whether it is HTML, SVG,
 * XML or JSON. The file is read in 1 MiB steps; only a prefix, and the whole text of files
 * small enough to parse as JSON here, are kept.
 */
export type TextContent = 'html' | 'svg' | 'xml' | 'json' | 'text';

export type TextVerdict = { readonly content: TextContent } | { readonly notText: 'binary' | 'not_utf8' };

const STEP_BYTES = 1024 * 1024;
const PREFIX_CHARACTERS = 64 * 1024;
/**
 * JSON up to this size is parsed during detection (a 16 MiB parse takes ~0.1 s); a larger file
 * that starts like JSON is taken as JSON, and the extraction worker's parse is the judge.
 */
const PARSE_LIMIT_BYTES = 16 * 1024 * 1024;

export async function inspectText(source: ByteSource): Promise<TextVerdict> {
  const { encoding, bomLength } = textEncodingOf(await source.read(0, 4));
  const decoder = strictDecoder(encoding);
  const keepWhole = source.size <= PARSE_LIMIT_BYTES;
  const parts: string[] = [];
  let prefix = '';
  for (let offset = bomLength; offset < source.size; offset += STEP_BYTES) {
    const bytes = await source.read(offset, STEP_BYTES);
    let text: string;
    try {
      text = decoder.decode(bytes, { stream: offset + STEP_BYTES < source.size });
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      return { notText: encoding === 'utf-8' && bytes.includes(0) ? 'binary' : 'not_utf8' };
    }
    if (text.includes('\0')) return { notText: 'binary' };
    if (prefix.length < PREFIX_CHARACTERS) prefix += text.slice(0, PREFIX_CHARACTERS - prefix.length);
    if (keepWhole) parts.push(text);
  }
  return { content: classify({ prefix, whole: keepWhole ? parts.join('') : null }) };
}

function classify(text: { prefix: string; whole: string | null }): TextContent {
  const start = skipPrologue(text.prefix);
  const head = start.slice(0, 1024).toLowerCase();
  if (/^<svg[\s>]/.test(head) || /^<!doctype\s+svg/.test(head)) return 'svg';
  if (/^<!doctype\s+html/.test(head)) return 'html';
  if (head.startsWith('<') && /<(?:html|head|body)[\s/>]/.test(head)) return 'html';
  if (head.startsWith('<') && head.includes('<svg')) return 'svg';
  if (text.prefix.trimStart().startsWith('<?xml')) return 'xml';
  if (head.startsWith('{') || head.startsWith('[')) return isJson(text.whole) ? 'json' : 'text';
  return 'text';
}

/** The text after leading whitespace, `<?xml …?>` declarations and `<!-- … -->` comments. */
function skipPrologue(text: string): string {
  let rest = text.trimStart();
  for (let step = 0; step < 32; step += 1) {
    const close = rest.startsWith('<!--') ? '-->' : rest.startsWith('<?') ? '?>' : null;
    if (close === null) return rest;
    const end = rest.indexOf(close);
    if (end < 0) return rest;
    rest = rest.slice(end + close.length).trimStart();
  }
  return rest;
}

function isJson(whole: string | null): boolean {
  if (whole === null) return true;
  try {
    JSON.parse(whole);
    return true;
  } catch (error) {
    if (error instanceof SyntaxError) return false;
    throw error;
  }
}
