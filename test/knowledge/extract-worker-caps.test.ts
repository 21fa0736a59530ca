import { afterEach, describe, expect, it } from 'vitest';
import { ExtractionError } from '../../src/knowledge/document.js';
import { DocumentExtractor } from '../../src/knowledge/extract/document-extractor.js';
import * as documents from '../fixtures/documents.js';

/**
 * The worker thread's caps: a job past its deadline or its memory cap, or whose worker dies,
 * ends in an ExtractionError; the process survives and the next job gets a fresh worker. The
 * test worker (test/fixtures/extraction-test-worker.mjs) adds inputs that hang or allocate.
 */
const TEST_WORKER = new URL('../fixtures/extraction-test-worker.mjs', import.meta.url);
const SMALL = { kind: 'text' as const, bytes: Buffer.from('still works') };
const SMALL_DOCUMENT = {
  title: null,
  pageCount: null,
  sections: [{ headingPath: [], page: null, text: 'still works' }],
};

let extractor: DocumentExtractor | undefined;
afterEach(() => extractor?.close());

function testExtractor(options: { timeoutMs: number; memoryMb: number; concurrency?: number }): DocumentExtractor {
  extractor = new DocumentExtractor({ ...options, workerScript: TEST_WORKER });
  return extractor;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error('extraction succeeded'),
    (reason: unknown) => reason,
  );
}

describe('worker caps', () => {
  it('a job past its deadline is an ExtractionError, and the next job is served', async () => {
    const pool = testExtractor({ timeoutMs: 1000, memoryMb: 128 });
    const error = await failure(pool.extract({ kind: 'text', bytes: Buffer.from('x'), url: 'test:hang' }));
    expect(error).toBeInstanceOf(ExtractionError);
    expect((error as Error).message).toBe('extraction took longer than 1 s');
    expect(await pool.extract(SMALL)).toEqual(SMALL_DOCUMENT);
  });

  it('a job that allocates without end hits the memory cap, and the next job is served', async () => {
    const pool = testExtractor({ timeoutMs: 60_000, memoryMb: 64 });
    const error = await failure(pool.extract({ kind: 'text', bytes: Buffer.from('x'), url: 'test:allocate' }));
    expect(error).toBeInstanceOf(ExtractionError);
    expect((error as Error).message).toBe('extraction ran out of its 64 MB memory cap');
    expect(await pool.extract(SMALL)).toEqual(SMALL_DOCUMENT);
  });

  it('a real document too big for a tiny memory cap fails the same way', async () => {
    const rows = Array.from({ length: 300_000 }, (_, index) => ({ id: index, name: `row ${index}`, tags: ['a', 'b'] }));
    const pool = new DocumentExtractor({ timeoutMs: 60_000, memoryMb: 32 });
    extractor = pool;
    const error = await failure(pool.extract({ kind: 'json', bytes: Buffer.from(JSON.stringify(rows)) }));
    expect((error as Error).message).toBe('extraction ran out of its 32 MB memory cap');
    expect(await pool.extract(SMALL)).toEqual(SMALL_DOCUMENT);
  });

  it.each([
    ['docx', 'word/document.xml', 'a DOCX part is refused before mammoth (jszip) inflates it'],
    ['xlsx', 'xl/workbook.xml', 'an XLSX part is stopped by the ZIP reader’s byte cap'],
  ] as const)('a lying ZIP directory: %s (%s): %s', async (kind, part, _why) => {
    const pool = new DocumentExtractor({ timeoutMs: 60_000, memoryMb: 64 });
    extractor = pool;
    const error = await failure(pool.extract({ kind, bytes: documents.lyingPackage({ kind, part, mebibytes: 256 }) }));
    expect(error).toBeInstanceOf(ExtractionError);
    expect((error as Error).message).toBe(
      `the file cannot be read: the archive's part ${part} holds more data than its directory declares`,
    );
  });

  it('a worker that dies is an ExtractionError, and the next job is served', async () => {
    const pool = testExtractor({ timeoutMs: 60_000, memoryMb: 128 });
    const error = await failure(pool.extract({ kind: 'text', bytes: Buffer.from('x'), url: 'test:exit' }));
    expect(error).toBeInstanceOf(ExtractionError);
    expect((error as Error).message).toBe('extraction failed unexpectedly (its worker stopped)');
    expect(await pool.extract(SMALL)).toEqual(SMALL_DOCUMENT);
  });

  it('an abort ends the job with the signal’s reason and frees its worker', async () => {
    const pool = testExtractor({ timeoutMs: 60_000, memoryMb: 128 });
    const controller = new AbortController();
    const job = failure(pool.extract({ kind: 'text', bytes: Buffer.from('x'), url: 'test:hang' }, controller.signal));
    const reason = new Error('shutting down');
    controller.abort(reason);
    expect(await job).toBe(reason);
    expect(await pool.extract(SMALL)).toEqual(SMALL_DOCUMENT);
  });

  it('jobs beyond the concurrency wait their turn; a queued job can be aborted', async () => {
    const pool = testExtractor({ timeoutMs: 1000, memoryMb: 128, concurrency: 1 });
    const hanging = failure(pool.extract({ kind: 'text', bytes: Buffer.from('x'), url: 'test:hang' }));
    const controller = new AbortController();
    const queued = failure(pool.extract(SMALL, controller.signal));
    const next = pool.extract(SMALL);
    controller.abort(new Error('not needed'));
    expect(((await hanging) as Error).message).toBe('extraction took longer than 1 s');
    expect(((await queued) as Error).message).toBe('not needed');
    expect(await next).toEqual(SMALL_DOCUMENT);
  });

  it('after close, extract is refused', async () => {
    const pool = testExtractor({ timeoutMs: 1000, memoryMb: 128 });
    expect(await pool.extract(SMALL)).toEqual(SMALL_DOCUMENT);
    await pool.close();
    expect(((await failure(pool.extract(SMALL))) as Error).message).toBe('the document extractor is closed');
  });
});
