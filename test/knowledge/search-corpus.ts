import fs from 'node:fs';
import path from 'node:path';
import type { DocumentSection, ExtractedDocument } from '../../src/knowledge/document.js';
import type { EmbeddingModel } from '../../src/knowledge/embeddings.js';
import type { KnowledgeSearch } from '../../src/knowledge/knowledge-search.js';
import type { ChunkIndexFixture } from '../storage/file-chunks-fixture.js';

/** The committed search-quality corpus: short documents written for it, and questions about them. */
export const CORPUS_DIR = path.resolve(import.meta.dirname, '../fixtures/knowledge-corpus');

export interface CorpusQuery {
  query: string;
  file: string;
  /** The expected chunk's heading path, joined with " > " ("" for a document without headings). */
  heading: string;
}

function readQueries(name: string): readonly CorpusQuery[] {
  return JSON.parse(fs.readFileSync(path.join(CORPUS_DIR, name), 'utf8')) as CorpusQuery[];
}

/** The questions the corpus was written with; ranking choices were measured on them. */
export const CORPUS_QUERIES: readonly CorpusQuery[] = readQueries('queries.json');

/**
 * Questions written after the corpus and before any query-expansion work, never used to choose
 * or tune anything: they measure whether a ranking change generalises (docs/knowledge-search.md).
 */
export const HELD_OUT_QUERIES: readonly CorpusQuery[] = readQueries('held-out-queries.json');

export function corpusFiles(): string[] {
  return fs
    .readdirSync(CORPUS_DIR)
    .filter((name) => name.endsWith('.md') || name.endsWith('.txt'))
    .sort();
}

/**
 * A minimal reading of the corpus: ATX headings make the heading path, blank lines separate
 * paragraphs; a .txt file is paragraphs without headings. (The corpus uses nothing more, so the
 * quality figures measure chunking and search, not a parser.)
 */
export function readCorpusDocument(name: string): ExtractedDocument {
  const text = fs.readFileSync(path.join(CORPUS_DIR, name), 'utf8');
  const sections: DocumentSection[] = [];
  const headings: string[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const trimmed = block.trim();
    const heading = name.endsWith('.md') ? /^(#{1,6})\s+(.+)$/.exec(trimmed) : null;
    if (heading) {
      headings.splice(heading[1]!.length - 1);
      headings[heading[1]!.length - 1] = heading[2]!.trim();
      continue;
    }
    if (trimmed !== '')
      sections.push({ headingPath: [...headings], page: null, text: trimmed.replace(/\s*\n\s*/g, ' ') });
  }
  return { title: headings[0] ?? null, sections, pageCount: null };
}

/** Indexes every corpus document as one ready file of the agent; returns file ids by name. */
export async function indexCorpus(input: {
  fixture: ChunkIndexFixture;
  organizationId: string;
  agentId: string;
  embeddings?: EmbeddingModel | null;
}): Promise<Map<string, string>> {
  const fileIds = new Map<string, string>();
  for (const name of corpusFiles()) {
    const fileId = await input.fixture.newFile({ organizationId: input.organizationId, agentId: input.agentId, name });
    await input.fixture.index({ ...input, fileId, generation: 1, document: readCorpusDocument(name) });
    fileIds.set(name, fileId);
  }
  return fileIds;
}

export interface QualityFigures {
  queries: number;
  first: number;
  inTopFive: number;
  /** Queries whose expected chunk was not first: the query and the rank it had (null: not in the top 5). */
  misses: { query: string; rank: number | null }[];
}

/** Runs every query of the set (the committed one by default) and tells where the expected chunk ranked. */
export async function measureQuality(input: {
  search: KnowledgeSearch;
  organizationId: string;
  agentId: string;
  queries?: readonly CorpusQuery[];
}): Promise<QualityFigures> {
  const figures: QualityFigures = { queries: 0, first: 0, inTopFive: 0, misses: [] };
  for (const expected of input.queries ?? CORPUS_QUERIES) {
    const hits = await input.search.search({ ...input, query: expected.query, limit: 5 });
    const index = hits.findIndex(
      (hit) => hit.fileName === expected.file && hit.headingPath.join(' > ') === expected.heading,
    );
    figures.queries += 1;
    if (index === 0) figures.first += 1;
    if (index !== -1) figures.inTopFive += 1;
    if (index !== 0) figures.misses.push({ query: expected.query, rank: index === -1 ? null : index + 1 });
  }
  return figures;
}

export function describeFigures(label: string, figures: QualityFigures): string {
  const percent = (count: number) => ((100 * count) / figures.queries).toFixed(1);
  const misses = figures.misses.map((miss) => `\n  rank ${miss.rank ?? '>5'}: ${miss.query}`).join('');
  return `${label}: first ${figures.first}/${figures.queries} (${percent(figures.first)} %), top 5 ${figures.inTopFive}/${figures.queries} (${percent(figures.inTopFive)} %)${misses}`;
}
