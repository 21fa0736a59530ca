import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFreePort, startNode, waitForHttpOk, waitForOutput } from './children.js';
import { requestJson } from './http-json.js';
import { BLANK_TEMPLATE_ID, RATE_LIMIT_ENV } from './parley.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PARLEY_CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const BARE_SERVER = path.join(ROOT, 'bench', 'bare-server.js');
const HOST = '127.0.0.1';

/** `--cpu-prof` flags when profiling is on: the profile is written when the process exits. */
function profilingFlags(profileDirectory, name) {
  return profileDirectory
    ? ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}`, `--cpu-prof-name=${name}.cpuprofile`]
    : [];
}

/**
 * Starts `parley serve` against an empty database, reads the bootstrap admin key it prints on
 * first start, waits for readiness and creates the agent the threads will belong to.
 */
export async function startParley({ name, databaseUrl, profileDirectory }) {
  const port = await findFreePort(HOST);
  const handle = startNode({
    name,
    script: PARLEY_CLI,
    args: ['serve'],
    nodeArgs: profilingFlags(profileDirectory, name),
    env: {
      PORT: String(port),
      HOST,
      LOG_LEVEL: 'warn',
      DATABASE_URL: databaseUrl,
      // Without one the server warns that it generated a key file, and the bench fails on any warning.
      PARLEY_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
      ...RATE_LIMIT_ENV,
    },
  });
  const baseUrl = `http://${HOST}:${port}`;
  const [apiKey] = await waitForOutput(handle, /\bpk_[0-9a-f]{32}_[A-Za-z0-9_-]{43}\b/);
  await waitForHttpOk(handle, `${baseUrl}/readyz`);
  const agent = await requestJson({
    url: `${baseUrl}/api/v1/agents`,
    method: 'POST',
    headers: { 'x-api-key': apiKey },
    body: { name: 'bench', configuration: {}, template_id: BLANK_TEMPLATE_ID },
  });
  if (agent.status !== 200 || typeof agent.json?.id !== 'string') {
    throw new Error(`${name}: creating the agent answered ${agent.status}: ${agent.text}`);
  }
  return { handle, baseUrl, apiKey, agentId: agent.json.id };
}

/** Starts bench/bare-server.js; it needs no key and no agent, but gets the same request. */
export async function startBare({ profileDirectory }) {
  const port = await findFreePort(HOST);
  const handle = startNode({
    name: 'bare',
    script: BARE_SERVER,
    nodeArgs: profilingFlags(profileDirectory, 'bare'),
    env: { PORT: String(port), HOST },
  });
  await waitForOutput(handle, /^listening on \d+$/m);
  return { handle, baseUrl: `http://${HOST}:${port}` };
}
