import type * as Pdfjs from 'pdfjs-dist/legacy/build/pdf.mjs';

/**
 * Loading pdf.js (pdfjs-dist 5.6, legacy build) for text extraction inside a Node worker thread.
 *
 * - pdf.js creates one `DOMMatrix` when its module loads (and uses more only for rendering).
 *   Node has none; pdf.js borrows @napi-rs/canvas's when that optional package is installed, and
 *   otherwise the module fails to load. The minimal class below is installed only when there is
 *   no DOMMatrix at all, so text extraction works either way.
 * - pdf.js's own worker is not used: in Node it runs its "fake worker" in the same thread, and we
 *   hand it the worker module ourselves (globalThis.pdfjsWorker) instead of letting it import a
 *   path relative to itself. Our worker thread is the isolation (ADR 0020).
 */
type PdfjsModule = typeof Pdfjs;

class MinimalDomMatrix {
  a = 1;
  b = 0;
  c = 0;
  d = 1;
  e = 0;
  f = 0;

  constructor(init?: readonly number[]) {
    if (init?.length === 6)
      [this.a, this.b, this.c, this.d, this.e, this.f] = init as [number, number, number, number, number, number];
  }
}

// pdfjs-dist ships no types for its worker module; it is only handed back to pdf.js.
const PDFJS_WORKER_MODULE: string = 'pdfjs-dist/legacy/build/pdf.worker.mjs';

let loading: Promise<PdfjsModule> | undefined;

export function loadPdfjs(): Promise<PdfjsModule> {
  loading ??= (async () => {
    const scope = globalThis as { DOMMatrix?: unknown; pdfjsWorker?: unknown };
    scope.DOMMatrix ??= MinimalDomMatrix;
    scope.pdfjsWorker ??= await import(PDFJS_WORKER_MODULE);
    return import('pdfjs-dist/legacy/build/pdf.mjs');
  })();
  return loading;
}
