import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Static checks over the server's source (reliability.md T24): nothing evaluates text as code or
 * starts processes. Outbound HTTP (T20) has its own test, test/unit/single-outbound-client.test.ts,
 * which allows it in src/outbound/ only.
 *
 * One documented exception (docs/adr/0019-mcp-stdio.md): src/mcp/mcp-stdio-transport.ts starts
 * the stdio MCP servers the operator declared in MCP_SERVERS_FILE, through the SDK's
 * StdioClientTransport. No other file may import a process spawner, and that module is wired in
 * one place only, with the declarations read from the operator's file.
 *
 * Worker threads (not processes) run document extraction with a memory cap and a deadline
 * (docs/adr/0020-extraction-in-worker-threads.md): the pool and the worker's entry are the only
 * files that may import worker_threads, and the worker runs a fixed script, never given code.
 */
const SOURCE = path.resolve(import.meta.dirname, '../../src');

function sourceFiles(directory: string): string[] {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return entry.name === 'testing' ? [] : sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

const FORBIDDEN: [string, RegExp][] = [
  ['eval', /\beval\s*\(/],
  ['new Function', /\bnew\s+Function\s*\(/],
  ['vm module', /from\s+['"](node:)?vm['"]/],
  ['child processes', /from\s+['"](node:)?child_process['"]/],
  ['process spawners', /from\s+['"](cross-spawn|execa|shelljs)['"]/],
];

/** The SDK's stdio client transport spawns its server as a child process. */
const STDIO_SPAWNER = /from\s+['"]@modelcontextprotocol\/sdk\/client\/stdio(\.js)?['"]/;
const STDIO_MODULE = 'mcp/mcp-stdio-transport.ts';

const WORKER_THREADS = /from\s+['"](node:)?worker_threads['"]/;
const EXTRACTION_WORKER_MODULES = ['knowledge/extract/document-extractor.ts', 'knowledge/extract/extraction-worker.ts'];

function codeLines(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => !line.trim().startsWith('//') && !line.trim().startsWith('*'));
}

describe('source code', () => {
  const files = sourceFiles(SOURCE);

  it('has files to check', () => {
    expect(files.length).toBeGreaterThan(40);
  });

  it.each(FORBIDDEN)('contains no %s', (_name, pattern) => {
    const offenders = files.filter((file) =>
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .some((line) => !line.trim().startsWith('//') && !line.trim().startsWith('*') && pattern.test(line)),
    );
    expect(offenders.map((file) => path.relative(SOURCE, file))).toEqual([]);
  });

  it('starts processes (stdio MCP servers) in one module only, which really is the one that does', () => {
    const spawning = files.filter((file) => codeLines(file).some((line) => STDIO_SPAWNER.test(line)));
    expect(spawning.map((file) => path.relative(SOURCE, file))).toEqual([STDIO_MODULE]);
  });

  it('uses worker threads in the extraction pool and its worker entry only', () => {
    const threaded = files.filter((file) => codeLines(file).some((line) => WORKER_THREADS.test(line)));
    expect(threaded.map((file) => path.relative(SOURCE, file)).sort()).toEqual(EXTRACTION_WORKER_MODULES);
    const pool = fs.readFileSync(path.join(SOURCE, EXTRACTION_WORKER_MODULES[0]!), 'utf8');
    expect(pool.match(/new Worker\(/g)).toEqual(['new Worker(']);
    expect(pool).toMatch(/new Worker\(this\.workerScript, \{/);
    expect(pool).not.toMatch(/eval:\s*true/);
  });

  it('wires the stdio module once, with the servers read from the operator file', () => {
    const importers = files.filter((file) =>
      codeLines(file).some((line) => /from\s+['"][./]+(mcp\/)?mcp-stdio-transport\.js['"]/.test(line)),
    );
    expect(importers.map((file) => path.relative(SOURCE, file))).toEqual(['app-tools.ts']);
    const wiring = fs.readFileSync(path.join(SOURCE, 'app-tools.ts'), 'utf8');
    expect(wiring).toMatch(/const stdioServers = readMcpServersFile\(config\.mcp\.serversFile\);/);
    expect(wiring.match(/stdioTransports\(/g)).toEqual(['stdioTransports(']);
    expect(wiring).toMatch(/stdioTransports\(\{ servers: stdioServers, /);
  });
});
