import type { DocumentChunk, DocumentSection, ExtractedDocument } from './document.js';

/**
 * Chunking (docs/knowledge-search.md, "Chunks"): consecutive sections with the same heading path
 * and page form a group; a group's sections are packed whole into chunks of at most
 * `targetTokens`; a section larger than that is split at sentence ends (and line breaks), and a
 * sentence larger than that at word boundaries. Each chunk after the first of a group starts
 * with up to `overlapTokens` of the previous chunk's tail, so a passage cut in two still reads
 * whole in one of them. Chunks never span two groups, so every chunk has one heading path and one
 * page, and its text is the passage itself (nothing prefixed).
 */
export function chunkDocument(
  document: ExtractedDocument,
  options: { targetTokens: number; overlapTokens: number },
): DocumentChunk[] {
  const maxUnits = Math.max(1, Math.floor(options.targetTokens / TOKENS_PER_UNIT));
  // An overlap of half a chunk or more would make every chunk mostly a repeat of the last one.
  const overlapUnits = Math.min(Math.floor(options.overlapTokens / TOKENS_PER_UNIT), Math.floor(maxUnits / 2));
  const chunks: DocumentChunk[] = [];
  for (const group of groupSections(document.sections)) {
    for (const text of packGroup(group.texts, { maxUnits, overlapUnits })) {
      chunks.push({ text, headingPath: group.headingPath, page: group.page, tokenCount: estimateTokens(text) });
    }
  }
  return chunks;
}

/**
 * Tokens are estimated, not counted with a model's tokenizer (which depends on the embedding
 * model, and would be a dependency): 1.3 tokens per word, the usual ratio for English prose with
 * BPE tokenizers, rounded up. A word is a run of non-space characters, except that each Han,
 * kana or Hangul character counts as a word of its own (those scripts write no spaces, and a
 * BPE tokenizer spends about one token per character on them).
 */
export function estimateTokens(text: string): number {
  return Math.ceil(countUnits(text) * TOKENS_PER_UNIT);
}

const TOKENS_PER_UNIT = 1.3;
const SPACELESS = String.raw`\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}`;
/** One word (see estimateTokens) with the white space after it. */
const UNIT_WITH_SPACE = new RegExp(String.raw`(?:[${SPACELESS}]|[^\s${SPACELESS}]+)\s*`, 'gu');
/**
 * Where a sentence ends: a terminal mark followed by space (or, for the full-width marks of
 * spaceless scripts, by anything), or a line break. The white space after it stays with it.
 */
const SENTENCE_END = /[.!?…](?=\s)|[。！？\n]/gu;

function countUnits(text: string): number {
  return text.match(UNIT_WITH_SPACE)?.length ?? 0;
}

interface SectionGroup {
  readonly headingPath: readonly string[];
  readonly page: number | null;
  readonly texts: string[];
}

function groupSections(sections: readonly DocumentSection[]): SectionGroup[] {
  const groups: SectionGroup[] = [];
  let current: (SectionGroup & { key: string }) | undefined;
  for (const section of sections) {
    const text = section.text.trim();
    if (text === '') continue;
    const key = JSON.stringify([section.headingPath, section.page]);
    if (current?.key !== key) {
      current = { key, headingPath: [...section.headingPath], page: section.page, texts: [] };
      groups.push(current);
    }
    current.texts.push(text);
  }
  return groups;
}

/** A piece of a section that fits in one chunk, with its original trailing white space. */
interface Piece {
  readonly text: string;
  readonly units: number;
  /** Starts a new section (joined to what precedes it by a blank line). */
  readonly sectionStart: boolean;
}

function packGroup(texts: readonly string[], limits: { maxUnits: number; overlapUnits: number }): string[] {
  const chunks: string[] = [];
  let pieces: Piece[] = [];
  let units = 0;
  for (const piece of texts.flatMap((text) => splitSection(text, limits))) {
    if (units + piece.units > limits.maxUnits && pieces.length > 0) {
      const previous = joinPieces(pieces);
      chunks.push(previous.trim());
      const overlap = tailUnits(previous, Math.min(limits.overlapUnits, limits.maxUnits - piece.units));
      pieces = overlap.units === 0 ? [] : [{ ...overlap, sectionStart: false }];
      units = overlap.units;
    }
    pieces.push(piece);
    units += piece.units;
  }
  if (pieces.length > 0) chunks.push(joinPieces(pieces).trim());
  return chunks;
}

/** The pieces with their own spacing, sections apart by a blank line; not trimmed, so a tail keeps its spacing. */
function joinPieces(pieces: readonly Piece[]): string {
  let text = '';
  for (const piece of pieces)
    text = piece.sectionStart && text !== '' ? `${text.trimEnd()}\n\n${piece.text}` : text + piece.text;
  return text.trimStart();
}

/** A section whole if it fits; else its sentences, and a too-long sentence's word windows. */
function splitSection(text: string, limits: { maxUnits: number; overlapUnits: number }): Piece[] {
  const { maxUnits } = limits;
  const units = countUnits(text);
  if (units <= maxUnits) return [{ text, units, sectionStart: true }];
  const pieces = sentencesOf(text).flatMap((sentence) => {
    const sentenceUnits = countUnits(sentence);
    if (sentenceUnits <= maxUnits) return [{ text: sentence, units: sentenceUnits }];
    // Windows leave room for the overlap, so a run-on sentence's pieces overlap like sentences do.
    return wordWindows(sentence, Math.max(1, maxUnits - limits.overlapUnits));
  });
  return pieces.map((piece, index) => ({ ...piece, sectionStart: index === 0 }));
}

/** The sentences of `text`, each with the white space after it, together the whole text. */
function sentencesOf(text: string): string[] {
  const sentences: string[] = [];
  let start = 0;
  for (const match of text.matchAll(SENTENCE_END)) {
    if (match.index < start) continue;
    let end = match.index + match[0].length;
    while (end < text.length && WHITE_SPACE.test(text[end]!)) end += 1;
    sentences.push(text.slice(start, end));
    start = end;
  }
  if (start < text.length) sentences.push(text.slice(start));
  return sentences;
}

const WHITE_SPACE = /\s/u;

function wordWindows(sentence: string, maxUnits: number): { text: string; units: number }[] {
  const words = sentence.match(UNIT_WITH_SPACE) ?? [];
  const windows: { text: string; units: number }[] = [];
  for (let start = 0; start < words.length; start += maxUnits) {
    const window = words.slice(start, start + maxUnits);
    windows.push({ text: window.join(''), units: window.length });
  }
  return windows;
}

/** The last `units` words of `text`, with the spacing they had (a word closing a sentence keeps its space). */
function tailUnits(text: string, units: number): { text: string; units: number } {
  if (units <= 0) return { text: '', units: 0 };
  const words = (text.match(UNIT_WITH_SPACE) ?? []).slice(-units);
  const tail = words.join('');
  // The chunk's last word lost its trailing space to trimming only at a section's end, where the
  // next piece starts a section (a blank line follows); elsewhere the space is still there.
  return { text: tail, units: words.length };
}
