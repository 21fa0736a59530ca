import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * reliability.md T20: every outbound request of the server goes through the guarded client in
 * src/outbound/ (docs/adr/0013-guarded-outbound-client.md). Outside it, no file of src/ may load
 * a networking module or call `fetch`, so no endpoint can skip the SSRF rules the way Dify's
 * schema fetch did (#35947). Type-only imports carry no code and are allowed everywhere.
 */
const SOURCE = path.resolve(import.meta.dirname, '../../src');
const GUARDED_CLIENT = 'outbound/';

/** Modules that open sockets or make requests (Node's own and the usual client libraries). */
const NETWORK_MODULES = [
  'http',
  'https',
  'http2',
  'net',
  'tls',
  'dgram',
  'dns',
  'dns/promises',
  'undici',
  'axios',
  'node-fetch',
  'got',
  'ky',
  'superagent',
  'ws',
];

/**
 * Reviewed exceptions: files that load a network module for the server's own listener, never to
 * reach another host. Each entry says which module and why; a new entry needs the same review.
 */
const EXEMPT: Readonly<Record<string, { module: string; why: string }>> = {
  'http/client-errors.ts': {
    module: 'http',
    why: 'reads http.STATUS_CODES to answer, on the server’s own socket, requests its parser refused',
  },
};

function sourceFiles(directory: string): string[] {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The modules a file loads with code: static and dynamic imports, re-exports and require. */
function loadedModules(text: string): string[] {
  const specifiers: string[] = [];
  const patterns = [
    /^\s*import\s+(?!type\s)[^'";]*?from\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /^\s*export\s+(?!type\s)[^'";]*?from\s*['"]([^'"]+)['"]/gm,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) specifiers.push(match[1]!.replace(/^node:/, ''));
  }
  return specifiers;
}

/** `fetch(`, `globalThis.fetch`, `new WebSocket(`, `new EventSource(`, outside comments. */
const GLOBAL_CLIENTS = /(?<![.\w])fetch\s*\(|\bglobalThis\s*\.\s*fetch\b|\bnew\s+(?:WebSocket|EventSource)\s*\(/;

function codeLines(text: string): string[] {
  return text.split('\n').filter((line) => !/^\s*(?:\/\/|\*|\/\*)/.test(line));
}

describe('the single outbound client (T20)', () => {
  const files = sourceFiles(SOURCE).map((file) => ({
    relative: path.relative(SOURCE, file).split(path.sep).join('/'),
    text: fs.readFileSync(file, 'utf8'),
  }));
  const outside = files.filter((file) => !file.relative.startsWith(GUARDED_CLIENT));

  it('finds the source and the guarded client', () => {
    expect(outside.length).toBeGreaterThan(40);
    expect(files.some((file) => file.relative === 'outbound/outbound-client.ts')).toBe(true);
  });

  it('no file outside src/outbound/ loads a networking module, except the reviewed ones', () => {
    const offenders = outside.flatMap((file) =>
      loadedModules(file.text)
        .filter((module) => NETWORK_MODULES.includes(module))
        .filter((module) => EXEMPT[file.relative]?.module !== module)
        .map((module) => `${file.relative} loads ${module}`),
    );
    expect(offenders).toEqual([]);
  });

  it('no file outside src/outbound/ calls fetch or opens a WebSocket/EventSource', () => {
    const offenders = outside.filter((file) => codeLines(file.text).some((line) => GLOBAL_CLIENTS.test(line)));
    expect(offenders.map((file) => file.relative)).toEqual([]);
  });

  it('every exemption is still needed (a stale one would hide a new use)', () => {
    for (const [relative, { module }] of Object.entries(EXEMPT)) {
      const file = files.find((candidate) => candidate.relative === relative);
      expect(file && loadedModules(file.text), relative).toContain(module);
    }
  });

  it('catches the forms it is meant to catch', () => {
    const samples = [
      "import http from 'node:http';",
      "import { request } from 'undici';",
      "export { fetch } from 'undici';",
      "const net = await import('node:net');",
      "const axios = require('axios');",
    ];
    expect(samples.map((sample) => loadedModules(sample))).toEqual([
      ['http'],
      ['undici'],
      ['undici'],
      ['net'],
      ['axios'],
    ]);
    expect(loadedModules("import type { Socket } from 'node:net';")).toEqual([]);
    expect(
      ['await fetch(url)', 'globalThis.fetch', 'new WebSocket(url)'].every((line) => GLOBAL_CLIENTS.test(line)),
    ).toBe(true);
    expect(GLOBAL_CLIENTS.test('client.fetchAll(x)')).toBe(false);
  });
});

/**
 * Model providers are the one kind of outbound traffic that does not go through the client: the
 * AI SDK makes those requests (with its own fetch) to base URLs only the operator configures,
 * never an agent or a user (ADR 0013). This keeps that true: the registry reads URLs from
 * ModelProvidersConfig alone.
 */
describe('model provider traffic', () => {
  it('takes base URLs from the server configuration only', () => {
    const registry = fs.readFileSync(path.join(SOURCE, 'models/registry.ts'), 'utf8');
    const baseUrls = [...registry.matchAll(/baseURL:\s*([^,}\n]+)/g)].map((match) => match[1]!.trim());
    expect(baseUrls).toEqual([
      'config.openai.baseUrl',
      'config.anthropic.baseUrl',
      'config.ollamaBaseUrl',
      'endpoint.baseUrl',
    ]);
    expect(registry).toContain('const endpoint = config.openaiCompatible[endpointName];');
  });
});
