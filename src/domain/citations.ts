import type { JsonObject, ToolCall } from './models.js';

/** How many passages one reply cites at most: the first ones its knowledge searches returned. */
export const MAX_CITATIONS = 20;
/** A citation quotes at most this many characters of its passage (the tool result has it whole). */
export const CITATION_TEXT_CHARACTERS = 500;

/**
 * A passage a reply drew on (`metadata.citations`, docs/tools.md "Knowledge search"). `url` only
 * for a chunk of a crawled page; `title` is that page's title or the uploaded file's name.
 */
export interface Citation extends JsonObject {
  file_id: string;
  chunk_id: string;
  title: string;
  page: number | null;
  text: string;
}

/**
 * The passages of one knowledge search result (`{results: [...]}` of a tool with `citesSources`)
 * as citations, each chunk once, their text bounded. Anything else is no citation: a result
 * stored truncated (larger than TOOL_RESULT_MAX_BYTES) or an entry missing its ids cites nothing.
 */
export function citationsOfResult(result: unknown): Citation[] {
  const results = (result as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) return [];
  const citations = new CitationList(Number.POSITIVE_INFINITY);
  citations.add(results.flatMap((entry: unknown) => citationOf(entry) ?? []));
  return [...citations.all];
}

/**
 * The citations of a reply: the passages its successful calls of a citing tool returned, in the
 * order of the calls, each chunk once, at most MAX_CITATIONS. Read from the reply's stored tool
 * calls, so a run resumed after an approval or a restart keeps the citations of its earlier
 * calls. `citingTools`: the names of the run's tools that cite (`Tool.citesSources`), so an MCP
 * or external tool named `knowledge_base_search` cites nothing.
 */
export function replyCitations(input: {
  toolCalls: readonly ToolCall[];
  citingTools: ReadonlySet<string>;
}): Citation[] {
  const citations = new CitationList();
  for (const call of input.toolCalls) {
    if (call.error === null && input.citingTools.has(call.tool_name)) citations.add(citationsOfResult(call.result));
  }
  return [...citations.all];
}

/**
 * Citations in first-seen order, each chunk once, at most `max`: the reply's list, and what the
 * AI SDK stream has sent of it (so its source parts are the reply's citations, in order).
 */
export class CitationList {
  readonly #seen = new Set<string>();
  readonly #all: Citation[] = [];

  constructor(private readonly max = MAX_CITATIONS) {}

  get all(): readonly Citation[] {
    return this.#all;
  }

  /** Adds the ones not seen yet while there is room; returns those added. */
  add(citations: readonly Citation[]): Citation[] {
    const added: Citation[] = [];
    for (const citation of citations) {
      if (this.#all.length >= this.max) break;
      if (this.#seen.has(citation.chunk_id)) continue;
      this.#seen.add(citation.chunk_id);
      this.#all.push(citation);
      added.push(citation);
    }
    return added;
  }

  clear(): void {
    this.#seen.clear();
    this.#all.length = 0;
  }
}

function citationOf(entry: unknown): Citation | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const { file_id, chunk_id, title, page, text, url } = entry as Record<string, unknown>;
  if (typeof file_id !== 'string' || typeof chunk_id !== 'string' || typeof text !== 'string') return undefined;
  const citation: Citation = {
    file_id,
    chunk_id,
    title: typeof title === 'string' ? title : '',
    page: typeof page === 'number' ? page : null,
    text: boundedText(text),
  };
  if (typeof url === 'string') citation.url = url;
  return citation;
}

/** At most CITATION_TEXT_CHARACTERS, cut before a character (never inside a surrogate pair), with `…`. */
function boundedText(text: string): string {
  if (text.length <= CITATION_TEXT_CHARACTERS) return text;
  let end = CITATION_TEXT_CHARACTERS - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}
