// Builds the embeddable chat widget (web/widget/) into dist/widget/widget.js: one minified
// classic script (an IIFE, so a plain <script src> loads it on any page), and fails when its
// gzipped size passes the budget of ADR 0037. `npm run build` runs it after the server's tsc.
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export const WIDGET_BUDGET_BYTES = 60 * 1024;
const root = fileURLToPath(new URL('..', import.meta.url));
const outfile = `${root}dist/widget/widget.js`;

/** Builds the bundle; returns its size and gzipped size in bytes. */
export async function buildWidget() {
  await mkdir(`${root}dist/widget`, { recursive: true });
  await build({
    entryPoints: [`${root}web/widget/src/main.ts`],
    outfile,
    bundle: true,
    minify: true,
    format: 'iife',
    // Browsers of the last few years: async generators, optional chaining, private fields.
    target: ['es2022', 'chrome100', 'firefox100', 'safari15.4'],
    legalComments: 'none',
    logLevel: 'warning',
  });
  const body = await readFile(outfile);
  const gzipped = gzipSync(body, { level: 9 }).length;
  if (gzipped > WIDGET_BUDGET_BYTES) {
    throw new Error(`dist/widget/widget.js is ${gzipped} bytes gzipped, over the ${WIDGET_BUDGET_BYTES}-byte budget`);
  }
  return { bytes: body.length, gzipped };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { bytes, gzipped } = await buildWidget();
  console.log(`dist/widget/widget.js: ${bytes} bytes, ${gzipped} bytes gzipped (budget ${WIDGET_BUDGET_BYTES})`);
}
