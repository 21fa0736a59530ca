import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ThreadRef } from './sse-client.js';

/** What every docs example exports (docs/examples/*, see test/docs-examples.test.ts), and its helpers. */
export interface DocsExample {
  [name: string]: any;
  main(input: { baseUrl: string; apiKey: string; agentId?: string; threadId?: string }): Promise<any>;
}

/** Loads `docs/examples/<name>` as a reader would run it (by file URL, so tsc does not follow it). */
export async function loadExample(name: string): Promise<DocsExample> {
  const url = pathToFileURL(path.resolve(import.meta.dirname, '../../docs/examples', name)).href;
  return (await import(url)) as DocsExample;
}

/** The example's `main` on one thread of a listening server. */
export async function runExample(name: string, thread: ThreadRef): Promise<any> {
  const example = await loadExample(name);
  return example.main({ baseUrl: thread.base, apiKey: thread.key, agentId: thread.agentId, threadId: thread.threadId });
}
