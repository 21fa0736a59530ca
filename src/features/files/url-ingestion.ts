import type { KnowledgeConfig } from '../../config-knowledge.js';
import type { AgentFileMetadata, StoredAgentFile } from '../../domain/agent-files.js';
import type { JobContext } from '../../jobs/job-handler.js';
import { chunkDocument } from '../../knowledge/chunk.js';
import type { CrawledPage } from '../../knowledge/crawl/site-crawler.js';
import { ExtractionError, type ExtractedDocument } from '../../knowledge/document.js';
import type { DocumentExtractor } from '../../knowledge/extract/document-extractor.js';
import { detectDocumentType, FileTypeRefused } from '../../knowledge/file-type.js';
import type { OutboundClient } from '../../outbound/outbound-client.js';
import type { ChunkBatches } from './chunk-batches.js';
import {
  emptyProgress,
  MAX_PROBLEMS,
  withProblem,
  type IngestionProblem,
  type IngestionProgress,
} from './ingestion-progress.js';

/** What an attempt indexed, for the transaction that makes it the file's ready index. */
export interface IndexedContent {
  chunkCount: number;
  textBytes: number;
  metadata: AgentFileMetadata;
  progress: IngestionProgress;
  /** Bytes fetched (URL files); uploads keep their size. */
  size?: number | undefined;
}

/** An attempt failed for a reason in the file or its source: the file's `error_message`. */
export class IngestionFailure extends Error {
  constructor(
    message: string,
    readonly content?: IndexedContent,
  ) {
    super(message);
    this.name = 'IngestionFailure';
  }
}

/** Progress is stored every this many pages (and at the end). */
const PROGRESS_EVERY_PAGES = 5;

const HTML_TYPES: ReadonlySet<string> = new Set(['text/html', 'application/xhtml+xml']);

/**
 * A URL file's attempt: the site crawled (crawl/site-crawler.ts: robots.txt, same site, depth and
 * page caps, JS shells refused), each page extracted — HTML by Readability with its URL, a
 * document by its detected type — chunked and indexed with its URL and title. Pages that yield
 * nothing become problems; no page indexed fails the file with the first problem's reason.
 */
export async function crawlIntoIndex(input: {
  file: StoredAgentFile;
  batches: ChunkBatches;
  context: JobContext;
  extractor: DocumentExtractor;
  outbound: OutboundClient;
  config: KnowledgeConfig;
}): Promise<IndexedContent> {
  const { file, batches, context, config } = input;
  // Loaded on the first crawl: the crawler's HTML parser (linkedom) took 0.8 s to import here,
  // which every server start and test app paid before.
  const { crawlSite } = await import('../../knowledge/crawl/site-crawler.js');
  let progress = emptyProgress();
  let pagesIndexed = 0;
  let textBytes = 0;
  let fetchedBytes = 0;
  const result = await crawlSite({
    startUrl: file.source_url!,
    outbound: input.outbound,
    ...config.crawl,
    signal: context.signal,
    onPage: async (page) => {
      const indexed = await indexPage({ ...input, page });
      fetchedBytes += page.body.byteLength;
      if ('problem' in indexed) progress = withProblem(progress, indexed.problem);
      else {
        pagesIndexed += 1;
        textBytes += indexed.textBytes;
      }
      progress = { ...progress, pages_done: progress.pages_done + 1, chunks: batches.count };
      if (progress.pages_done % PROGRESS_EVERY_PAGES === 0) await context.reportProgress(progress);
    },
    onProgress: ({ pagesDone, pagesQueued }) => {
      progress = { ...progress, pages_total: Math.min(config.crawl.maxPages, pagesDone + pagesQueued) };
    },
  });
  const problems = mergeProblems(result.problems, progress.problems);
  progress = { ...progress, pages_done: result.pagesDone, chunks: batches.count, problems };
  const content: IndexedContent = {
    chunkCount: batches.count,
    textBytes,
    metadata: { page_count: pagesIndexed, pages_indexed: pagesIndexed, problems },
    progress,
    size: fetchedBytes,
  };
  if (pagesIndexed === 0) {
    const first = problems[0];
    throw new IngestionFailure(
      first ? `${first.reason} (${first.url})` : 'no page of the site could be indexed',
      content,
    );
  }
  return content;
}

async function indexPage(input: {
  page: CrawledPage;
  batches: ChunkBatches;
  extractor: DocumentExtractor;
  config: KnowledgeConfig;
  context: JobContext;
}): Promise<{ textBytes: number } | { problem: IngestionProblem }> {
  const { page } = input;
  let document: ExtractedDocument;
  try {
    document = await extractPage(input);
  } catch (error) {
    if (error instanceof ExtractionError || error instanceof FileTypeRefused) {
      return { problem: { url: page.url, reason: error.message } };
    }
    throw error;
  }
  const chunks = chunkDocument(document, input.config.chunking);
  if (chunks.length === 0) return { problem: { url: page.url, reason: 'the page has no text to index' } };
  await input.batches.write(chunks, { url: page.url, title: page.title ?? document.title });
  return { textBytes: document.sections.reduce((sum, section) => sum + Buffer.byteLength(section.text), 0) };
}

/** HTML by Readability (with the page's URL); a document (a PDF the URL pointed at) by its detected type. */
async function extractPage(input: { page: CrawledPage; extractor: DocumentExtractor; context: JobContext }) {
  const { page, extractor, context } = input;
  if (HTML_TYPES.has(page.contentType)) {
    return extractor.extract({ kind: 'html', bytes: page.body, url: page.url }, context.signal);
  }
  const fileName = new URL(page.url).pathname.split('/').pop() ?? '';
  const detected = await detectDocumentType({ bytes: page.body, fileName, claimedType: page.contentType });
  return extractor.extract({ kind: detected.kind, bytes: page.body, url: page.url }, context.signal);
}

/** The crawler's problems, then the extraction ones, each URL once, at most MAX_PROBLEMS. */
function mergeProblems(
  crawl: readonly IngestionProblem[],
  extraction: readonly IngestionProblem[],
): IngestionProblem[] {
  const seen = new Set<string>();
  const merged: IngestionProblem[] = [];
  for (const problem of [...crawl, ...extraction]) {
    if (seen.has(problem.url) || merged.length >= MAX_PROBLEMS) continue;
    seen.add(problem.url);
    merged.push({ url: problem.url, reason: problem.reason });
  }
  return merged;
}
