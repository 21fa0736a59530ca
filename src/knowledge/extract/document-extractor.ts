import { Worker } from 'node:worker_threads';
import { ExtractionError, type DocumentKind, type ExtractedDocument } from '../document.js';
import { KIND_NAMES } from '../file-type-labels.js';
import type { ExtractionReply, ExtractionRequest } from './extraction-protocol.js';

/**
 * Extraction in worker threads with a memory cap and a deadline (ADR 0020,
 * docs/knowledge-extraction.md). Parsers of untrusted documents can loop, allocate without end
 * or crash; in a worker that costs one job: an out-of-memory, crashed, timed-out or aborted
 * worker is terminated, the job ends in an ExtractionError (or the abort reason), and the next
 * job gets a fresh worker. Healthy workers are kept for the next job (pdf.js loads once).
 */
export interface DocumentExtractorOptions {
  readonly timeoutMs: number;
  readonly memoryMb: number;
  /** Workers running at once (jobs beyond it wait in order); default 1. */
  readonly concurrency?: number;
  /** The worker's script; tests substitute one that can also hang or allocate without end. */
  readonly workerScript?: URL;
}

export interface ExtractionJobInput {
  readonly kind: DocumentKind;
  readonly path?: string;
  readonly bytes?: Uint8Array;
  readonly url?: string;
}

interface QueuedJob {
  readonly input: ExtractionJobInput;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (document: ExtractedDocument) => void;
  readonly reject: (error: unknown) => void;
}

/** Node's own file errors (ENOENT, EACCES, EMFILE…): the stored file, not the document, is at fault. */
const SYSTEM_ERROR = /^E[A-Z]+$/;

export class DocumentExtractor {
  private readonly idle: Worker[] = [];
  private readonly queue: QueuedJob[] = [];
  private readonly busy = new Set<Worker>();
  private readonly concurrency: number;
  private readonly workerScript: URL;
  private closed = false;

  constructor(private readonly options: DocumentExtractorOptions) {
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.workerScript = options.workerScript ?? defaultWorkerScript();
  }

  /** Extracts in a worker thread; throws ExtractionError with a user-facing reason (an abort rejects with the signal's reason). */
  extract(input: ExtractionJobInput, signal?: AbortSignal): Promise<ExtractedDocument> {
    if (this.closed) return Promise.reject(new Error('the document extractor is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      this.queue.push({ input, signal, resolve, reject });
      this.startNext();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the document extractor is closed'));
    const workers = [...this.idle.splice(0), ...this.busy];
    this.busy.clear();
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  private startNext(): void {
    while (!this.closed && this.busy.size < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift() as QueuedJob;
      if (job.signal?.aborted) {
        job.reject(job.signal.reason);
        continue;
      }
      const worker = this.idle.pop() ?? this.spawn();
      this.busy.add(worker);
      worker.ref();
      this.run(worker, job);
    }
  }

  private spawn(): Worker {
    const worker = new Worker(this.workerScript, {
      // The memory cap: V8 stops the thread (ERR_WORKER_OUT_OF_MEMORY) past it. Buffers outside
      // the JS heap are not counted; the ZIP reader's byte caps bound the largest of those.
      resourceLimits: { maxOldGenerationSizeMb: this.options.memoryMb },
      // No inspector, loader or other flags of the server's own command line.
      execArgv: [],
    });
    // An idle worker that dies has no job to fail; it is only dropped from the pool.
    const dropIdle = (): void => {
      const index = this.idle.indexOf(worker);
      if (index >= 0) this.idle.splice(index, 1);
    };
    worker.on('error', dropIdle);
    worker.on('exit', dropIdle);
    return worker;
  }

  private run(worker: Worker, job: QueuedJob): void {
    let settled = false;
    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      job.signal?.removeEventListener('abort', onAbort);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      this.release(worker, outcome.keepWorker);
      if (outcome.document !== undefined) job.resolve(outcome.document);
      else job.reject(outcome.error);
      this.startNext();
    };
    const onTimeout = (): void =>
      finish({
        error: new ExtractionError(`extraction took longer than ${seconds(this.options.timeoutMs)} s`),
        keepWorker: false,
      });
    // A fresh worker's module loading gets a deadline of its own, at least BOOT_DEADLINE_MS (on a
    // loaded 2-CPU machine loading pdf.js took over a second): the job's starts at `ready`.
    let timer = setTimeout(onTimeout, Math.max(this.options.timeoutMs, BOOT_DEADLINE_MS));
    const onMessage = (reply: ExtractionReply): void => {
      if (reply.type !== 'ready') return finish(replyOutcome(reply, job.input.kind));
      clearTimeout(timer);
      timer = setTimeout(onTimeout, this.options.timeoutMs);
    };
    const onError = (error: Error): void =>
      finish({ error: workerFailure(error, this.options.memoryMb), keepWorker: false });
    const onExit = (code: number): void =>
      finish({ error: crashed(new Error(`the extraction worker exited with code ${code}`)), keepWorker: false });
    const onAbort = (): void => finish({ error: job.signal?.reason, keepWorker: false });
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    job.signal?.addEventListener('abort', onAbort, { once: true });
    const request: ExtractionRequest = { input: ownBytes(job.input) };
    worker.postMessage(request, request.input.bytes ? [request.input.bytes.buffer as ArrayBuffer] : []);
  }

  /** A healthy worker waits for the next job (unreferenced, so it keeps no process alive); any other is ended. */
  private release(worker: Worker, keep: boolean): void {
    this.busy.delete(worker);
    if (keep && !this.closed) {
      worker.unref();
      this.idle.push(worker);
    } else {
      void worker.terminate();
    }
  }
}

const BOOT_DEADLINE_MS = 10_000;

interface Outcome {
  readonly document?: ExtractedDocument;
  readonly error?: unknown;
  readonly keepWorker: boolean;
}

function replyOutcome(reply: Exclude<ExtractionReply, { type: 'ready' }>, kind: DocumentKind): Outcome {
  if (reply.type === 'done') return { document: reply.document, keepWorker: true };
  if (reply.type === 'refused') {
    const error = new ExtractionError(reply.message);
    return {
      error: reply.detail === null ? error : Object.assign(error, { cause: new Error(reply.detail) }),
      keepWorker: true,
    };
  }
  const cause = new Error(reply.detail);
  if (reply.code !== null && SYSTEM_ERROR.test(reply.code)) {
    return {
      error: new Error(`extraction could not read the stored file (${reply.code})`, { cause }),
      keepWorker: true,
    };
  }
  const error = new ExtractionError(`the ${KIND_NAMES[kind]} file could not be read`);
  return { error: Object.assign(error, { cause }), keepWorker: false };
}

function workerFailure(error: Error, memoryMb: number): ExtractionError {
  if ((error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return Object.assign(new ExtractionError(`extraction ran out of its ${memoryMb} MB memory cap`), { cause: error });
  }
  return crashed(error);
}

function crashed(cause: Error): ExtractionError {
  return Object.assign(new ExtractionError('extraction failed unexpectedly (its worker stopped)'), { cause });
}

/** A copy of the caller's bytes that can be transferred: cloning a view would copy its whole buffer. */
function ownBytes(input: ExtractionJobInput): ExtractionJobInput {
  return input.bytes === undefined ? input : { ...input, bytes: new Uint8Array(input.bytes) };
}

function seconds(milliseconds: number): string {
  return String(Number((milliseconds / 1000).toFixed(3)));
}

/**
 * The worker script must be plain JavaScript at run time. From dist/ it is the sibling
 * extraction-worker.js. Under vitest this module runs from its TypeScript source (the URL ends
 * in `.ts`) and a worker thread cannot load TypeScript, so it points at the compiled copy in
 * dist/knowledge/extract/, which `npm test` builds first (the `pretest` script).
 */
function defaultWorkerScript(): URL {
  if (import.meta.url.endsWith('.ts'))
    return new URL('../../../dist/knowledge/extract/extraction-worker.js', import.meta.url);
  return new URL('./extraction-worker.js', import.meta.url);
}
