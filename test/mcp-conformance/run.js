// Runs the official MCP client conformance suite (@modelcontextprotocol/conformance, pinned)
// against Parley's own MCP client: the suite starts its mock servers (auth ones included) and
// runs `client.js` once per scenario, which drives Parley's real connect, OAuth and tool code.
//
//   node test/mcp-conformance/run.js            both sets below (npm run test:mcp-conformance)
//   node test/mcp-conformance/run.js 2025-11-25 one set
//
// - 2025-11-25: every scenario the revision requires must pass (no expected failures).
// - 2026-07-28: runs against expected-failures.2026-07-28.yaml; the suite fails on a failure
//   that is not listed, and on a listed one that passes (a stale baseline).
// Exits non-zero when either set fails. Needs `npm run build` first (client.js runs dist/).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const suite = path.join(root, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const client = `node ${path.relative(root, path.join(here, 'client.js'))}`;

const SETS = {
  '2025-11-25': {},
  '2026-07-28': { expectedFailures: path.join(here, 'expected-failures.2026-07-28.yaml') },
};

const requested = process.argv.slice(2);
const sets = requested.length > 0 ? requested : Object.keys(SETS);
let failed = false;
for (const name of sets) {
  const set = SETS[name];
  if (!set) {
    console.error(`unknown requirement set ${name}; known: ${Object.keys(SETS).join(', ')}`);
    process.exit(2);
  }
  const output = fs.mkdtempSync(path.join(os.tmpdir(), `parley-mcp-conformance-${name}-`));
  const args = [
    '--import',
    path.join(here, 'node20/register.js'),
    suite,
    'client',
    '--command',
    client,
    '--requirements',
    name,
    '--output-dir',
    output,
    // The suite runs every scenario at once, each starting a Parley: on a small machine a client
    // needs more than the suite's default 30 s.
    '--timeout',
    '180000',
    ...(set.expectedFailures ? ['--expected-failures', set.expectedFailures] : []),
  ];
  console.log(`\n== MCP client conformance, requirement set ${name}`);
  if (set.expectedFailures) {
    const listed = parse(fs.readFileSync(set.expectedFailures, 'utf8'))?.client ?? [];
    console.log(`expected failures: ${listed.length} (${path.relative(root, set.expectedFailures)})`);
  }
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  console.log(`== ${name}: ${result.status === 0 ? 'passed' : `FAILED (exit ${result.status})`}; results in ${output}`);
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
