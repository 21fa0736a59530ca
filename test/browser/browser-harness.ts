import fs from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';

/**
 * What the browser suites share: a page built with Vite into a temporary folder, a static server
 * for it on its own loopback port (so the page is cross-origin to the API, as a real front end
 * is), and Debian's Chromium driven by playwright-core (no browser can be downloaded here).
 */

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Debian's Chromium, headless. A machine without it fails the suite: a browser test never skips. */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH))
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}; the browser tests need it: ` +
        'apt-get update && apt-get install -y chromium (.ci/run does this in ensure_chromium)',
    );
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export interface PageSite {
  /** `http://127.0.0.1:<port>`: the origin the API must allow (CORS_ORIGINS). */
  origin: string;
  /** Builds the page into the served folder (the site serves nothing before). */
  build(): Promise<void>;
  /** Stops serving and removes the folder. */
  close(): Promise<void>;
}

/**
 * A temporary folder served on a free loopback port, for the Vite app in test/browser/<name>/.
 * Its origin is known before the build, so the API can be configured while the page builds.
 */
export async function servePage(name: string): Promise<PageSite> {
  const directory = await mkdtemp(path.join(os.tmpdir(), `parley-${name}-`));
  const server = await serveDirectory(directory);
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    build: () => buildPage(name, directory),
    async close() {
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * A development build: no minifying to wait for, and React's development checks (keys, hooks)
 * report to the console, which the suites require to stay free of errors.
 */
async function buildPage(name: string, outDir: string): Promise<void> {
  await build({
    configFile: false,
    root: fileURLToPath(new URL(`./${name}/`, import.meta.url)),
    base: './',
    mode: 'development',
    // Warnings are left out: zod (under the ai package) has a comment Rollup warns about on every build.
    logLevel: 'error',
    plugins: [react()],
    define: { 'process.env.NODE_ENV': JSON.stringify('development') },
    build: {
      outDir,
      emptyOutDir: true,
      // Chromium runs the code as written: nothing to transpile.
      target: 'esnext',
      minify: false,
      sourcemap: false,
      reportCompressedSize: false,
    },
  });
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** Serves the files of `directory` (GET only; `/` is index.html) on a free loopback port. */
async function serveDirectory(directory: string): Promise<http.Server> {
  const root = path.resolve(directory);
  const server = http.createServer((request, response) => {
    const pathname = new URL(request.url ?? '/', 'http://site').pathname;
    const file = path.resolve(root, `.${pathname === '/' ? '/index.html' : decodeURIComponent(pathname)}`);
    const contentType = CONTENT_TYPES[path.extname(file)];
    if (request.method !== 'GET' || !file.startsWith(root + path.sep) || contentType === undefined) {
      response.writeHead(404).end();
      return;
    }
    readFile(file).then(
      (body) => response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body),
      (error: NodeJS.ErrnoException) => response.writeHead(error.code === 'ENOENT' ? 404 : 500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/**
 * Every console error and uncaught exception of a page, as text. Chromium reports a failed
 * resource load (a 4xx or 5xx answer, a CORS refusal) as a console error too.
 */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  return errors;
}
