import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../dist/app.js';
import { loadConfig } from '../dist/config.js';
import { openStore } from '../dist/storage/store.js';

/**
 * Writes the OpenAPI document the server publishes at /openapi.json to the file named by the first
 * argument, so `redocly lint` checks what clients really get. The app is built from dist/ on a
 * throwaway SQLite file, and nothing listens.
 */
const output = process.argv[2];
if (!output) {
  console.error('usage: node scripts/openapi-document.js <output.json>');
  process.exit(2);
}
const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-openapi-'));
try {
  const config = { ...loadConfig({}), database: { kind: 'sqlite', filename: path.join(directory, 'parley.db') } };
  const store = await openStore(config.database);
  const parley = await createApp({ config: { ...config, logLevel: 'silent' }, store });
  try {
    const response = await parley.app.inject({ method: 'GET', url: '/openapi.json' });
    if (response.statusCode !== 200) throw new Error(`GET /openapi.json answered ${response.statusCode}`);
    fs.mkdirSync(path.dirname(output), { recursive: true });
    fs.writeFileSync(output, `${JSON.stringify(JSON.parse(response.body), null, 2)}\n`);
  } finally {
    await parley.shutdown(0);
    await store.close();
  }
} finally {
  fs.rmSync(directory, { recursive: true, force: true });
}
