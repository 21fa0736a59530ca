import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceSection, runRecord } from './lib/doc-section.js';
import { fixed } from './lib/stats.js';
import * as toolOverhead from './tool-overhead.js';

/**
 * `npm run bench:tools` (builds first): runs the tool-call benchmark (bench/tool-overhead.js) in
 * its own process — its own event loop; it cleans up after itself, and a signal to this runner
 * reaches it — then writes the "Tool calls" section of docs/performance.md and
 * bench/results/tools-latest.json. Exits 1 if the benchmark failed or one of its checks did; an
 * aim not met is a finding, not a failure.
 */

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, '..');
const DOC = path.join(ROOT, 'docs', 'performance.md');
const RESULTS = path.join(BENCH_DIR, 'results', 'tools-latest.json');

async function main() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run npm run build');
  const temporary = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-tools-bench-'));
  const jsonFile = path.join(temporary, 'tool-overhead.json');
  const started = new Date();
  const loadBefore = os.loadavg()[0];
  let result;
  try {
    const outcome = await runChild(path.join(BENCH_DIR, 'tool-overhead.js'), jsonFile);
    if (!fs.existsSync(jsonFile)) {
      throw new Error(
        `tool-overhead exited with ${outcome.signal ?? `code ${outcome.code}`} before writing its figures`,
      );
    }
    result = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
  } finally {
    fs.rmSync(temporary, { recursive: true, force: true });
  }
  const run = runRecord({ started, loadBefore, root: ROOT, results: [result] });
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, JSON.stringify(run, null, 2));
  replaceSection({ file: DOC, name: 'tools', body: renderSection(run, result) });
  console.log(`\nWrote the Tool calls section of ${path.relative(ROOT, DOC)} and ${path.relative(ROOT, RESULTS)}`);
  if (result.failures?.length) process.exitCode = 1;
}

function runChild(script, jsonFile) {
  const child = spawn(process.execPath, [script, '--json', jsonFile], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => child.kill(signal));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

function renderSection(run, result) {
  const failures = result.failures?.length
    ? `\n\n**Checks that failed:**\n\n${result.failures.map((failure) => `- ${failure}`).join('\n')}`
    : '';
  return [
    '## Tool calls',
    '',
    'What one external tool call adds to a run. The server is `node dist/cli/main.js serve` in its own process on a ' +
      'fresh SQLite file (`LOG_LEVEL=warn`); the upstream, the server and the client share the machine.',
    '',
    `Machine: ${run.machine}. Load average when the run started: ${fixed(run.loadAverage.before)}, when it ended: ` +
      `${fixed(run.loadAverage.after)} (other work on the machine disturbs the timings, the p99s most).`,
    '',
    `Run: ${run.startedAt}, code ${run.code}, ${fixed(run.seconds, 0)} s in all.`,
    '',
    `${toolOverhead.render(result)}${failures}`,
    '',
    'Reproduce (from the repository root): `npm run bench:tools` (or `node bench/tools.js` after `npm run build`; ' +
      '`node bench/tool-overhead.js` runs it without writing this section). `BENCH_TOOL_RUNS` and ' +
      '`BENCH_TOOL_WARMUP_RUNS` change the sample counts; `BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=…"` ' +
      'profiles the server. Figures are also written to `bench/results/tools-latest.json`.',
  ].join('\n');
}

main().catch((error) => {
  console.error(error?.stack ?? error);
  process.exitCode = 1;
});
